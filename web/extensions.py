"""Flask extensions, created unbound and initialised by the factory."""

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_smorest import Api
from flask_wtf.csrf import CSRFProtect

from web.problems import problem_response

csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

#: Scope of the receipt-code lookups: the portal page and the API share one budget per
#: client address, so alternating between them buys no extra guesses.
RECEIPT_LOOKUP_SCOPE = "receipt-lookup"


def receipt_lookup_limit() -> str:
    """The configured limit of receipt-code lookups per client address."""
    return str(current_app.config["RATELIMIT_RECEIPT_LOOKUP"])


class FondoApi(Api):
    """flask-smorest API whose errors are RFC 9457 problem details."""

    def handle_http_exception(self, error):  # noqa: D102 - flask-smorest hook
        return problem_response(error)


api = FondoApi()
