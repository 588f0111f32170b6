"""WSGI entry point for production: ``gunicorn web.wsgi:app``.

Checks the settings and that the database and broker answer before serving; a wrong
setting stops start-up with one line on standard error and exit status 2.
"""

import sys

from fondo.celery_app import check_broker, make_celery
from fondo.config import ConfigError, load_settings
from fondo.runner import check_database, warm_up
from web.factory import create_app


def _build():
    try:
        settings = load_settings()
        check_database(settings)
        check_broker(make_celery(settings))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
    app = create_app(settings)
    warm_up(lambda line: print(line, file=sys.stderr, flush=True))  # before gunicorn serves
    return app


app = _build()
