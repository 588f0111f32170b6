"""Roles, sessions and limits: tasks answer as their endpoints, sessions end on the server,
cookies and HSTS, rate limits per real client address (behind a proxy too)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from fondo.db import session_scope
from fondo.jobs import JobState, create_job
from fondo.orm import Job, utcnow
from web import create_app

PROBLEM = "application/problem+json"
HSTS = "max-age=31536000; includeSubDomains"


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def sign_in(client, email: str, password: str, **kwargs):
    """Post the sign-in form as a browser does (CSRF token from the form)."""
    token = _csrf(client.get("/login", **kwargs).get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       **kwargs)


# ------------------------------------------------------------------ tasks answer as endpoints


def _finished_job(settings, kind: str, params: dict | None = None) -> str:
    with session_scope(settings) as session:
        job = create_job(session, kind, params or {})
        job.state = JobState.SUCCESS
        job.result = {"kind": kind, "answer": "the-stored-answer"}
        return job.id


@pytest.mark.parametrize(("kind", "allowed", "refused"), [
    ("screening", "analyst", "investor"),  # as GET /screenings/<id>
    ("yield_study", "officer", "investor"),  # as GET /studies/<id>
    ("data_check", "analyst", "investor"),  # as POST /data/check
    ("consultation_deliver_notice", "officer", "analyst"),  # as GET .../deliveries
    ("a_kind_nobody_mapped", "admin", "officer"),  # unknown kinds: admins only
])
def test_a_task_answers_as_the_endpoint_of_what_it_computes(client, settings, auth_headers,
                                                            kind, allowed, refused):
    task_id = _finished_job(settings, kind)
    for suffix in ("", "/result"):
        ok = client.get(f"/api/v1/tasks/{task_id}{suffix}", headers=auth_headers(allowed))
        assert ok.status_code == 200, suffix
        no = client.get(f"/api/v1/tasks/{task_id}{suffix}", headers=auth_headers(refused))
        assert no.status_code == 403 and no.mimetype == PROBLEM, suffix
        assert "the-stored-answer" not in no.get_data(as_text=True)


def test_an_investor_cannot_read_a_screening_that_the_screenings_endpoint_refuses(
        client, settings, auth_headers):
    investor = auth_headers("investor")
    task_id = _finished_job(settings, "screening", {"screening_id": 1})
    assert client.get("/api/v1/screenings/1", headers=investor).status_code == 403
    assert client.get(f"/api/v1/tasks/{task_id}", headers=investor).status_code == 403
    assert client.get(f"/api/v1/tasks/{task_id}/result", headers=investor).status_code == 403


# ------------------------------------------------------------------ sessions end on the server


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str, path: str = "/api/v1/me"):
    """A request from another client carrying only the copied session cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get(path)


def test_a_copied_cookie_stops_working_after_sign_out(app, client, make_user):
    email, password, _ = make_user("officer")
    assert sign_in(client, email, password).status_code == 302
    copied = _session_cookie(client)
    feedback_queue = "/api/v1/consultations/1/feedback"  # submitters' contact details
    assert _replay(app, copied).json["email"] == email  # the copy works while signed in
    assert email in _replay(app, copied, "/").get_data(as_text=True)
    assert _replay(app, copied, feedback_queue).status_code == 404  # signed in: no such one
    token = _csrf(client.get("/login").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    refused = _replay(app, copied)
    assert refused.status_code == 401 and refused.mimetype == PROBLEM
    assert email not in _replay(app, copied, "/").get_data(as_text=True)  # page: anonymous
    assert _replay(app, copied, feedback_queue).status_code == 401


def test_the_cookie_holds_no_user_id_and_a_forged_one_is_refused(app, client, settings,
                                                                 make_user):
    from flask.sessions import SecureCookieSessionInterface

    email, password, _ = make_user("admin")
    sign_in(client, email, password)
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    content = serializer.loads(_session_cookie(client))
    assert len(content["_user_id"]) >= 40  # a random session token, not "1"
    # a cookie of the old form (the user id), validly signed, no longer signs anyone in
    forged = serializer.dumps({**content, "_user_id": "1"})
    assert _replay(app, forged).status_code == 401


@pytest.mark.parametrize(("column", "age"), [
    ("last_seen_at", timedelta(minutes=30)),  # idle for SESSION_IDLE_MINUTES
    ("expires_at", timedelta(0)),  # past its absolute lifetime
])
def test_a_session_ends_when_idle_or_past_its_lifetime(app, client, settings, make_user,
                                                       column, age):
    from fondo.accounts.models import UserSession

    email, password, _ = make_user("analyst")
    sign_in(client, email, password)
    cookie = _session_cookie(client)
    assert _replay(app, cookie).status_code == 200
    with session_scope(settings) as session:
        session.execute(update(UserSession).values({column: utcnow() - age}))
    assert _replay(app, cookie).status_code == 401


def test_the_idle_clock_restarts_with_each_use(settings, make_user):
    from fondo.accounts import service
    from fondo.accounts.models import User

    email, _password, _ = make_user("analyst")
    idle = timedelta(minutes=30)
    with session_scope(settings) as session:
        user = session.scalar(select(User).where(User.email == email))
        token = service.start_session(session, user.id, timedelta(hours=12))
        start = utcnow()
        assert service.session_user(session, token, idle, now=start + timedelta(minutes=29))
        # used at 29 min, so still valid at 58 min (and used again then) ...
        assert service.session_user(session, token, idle, now=start + timedelta(minutes=58))
        # ... and over 30 min after that last use it has ended
        assert service.session_user(session, token, idle,
                                    now=start + timedelta(minutes=88, seconds=1)) is None


def test_a_new_password_ends_every_session(app, client, settings, make_user):
    from fondo.accounts.service import set_password

    email, password, _ = make_user("investor")
    sign_in(client, email, password)
    cookie = _session_cookie(client)
    with session_scope(settings) as session:
        assert set_password(session, email, "another long passphrase") == 1
    assert _replay(app, cookie).status_code == 401
    assert sign_in(app.test_client(), email, password).status_code == 401


def test_only_live_sessions_are_kept(app, settings, make_user):
    from fondo.accounts.models import UserSession

    email, password, _ = make_user("officer")
    browser = app.test_client()
    sign_in(browser, email, password)
    token = _csrf(browser.get("/login").get_data(as_text=True))
    browser.post("/logout", data={"csrf_token": token})
    sign_in(browser, email, password)  # the ended session's row goes at the next sign-in
    with session_scope(settings) as session:
        rows = session.scalars(select(UserSession)).all()
    assert len(rows) == 1 and rows[0].revoked_at is None


def test_cookies_are_secure_httponly_and_lax_outside_embedded_mode(client, make_user):
    email, password, _ = make_user("officer")
    response = sign_in(client, email, password)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "; SameSite=Lax" in cookie


def test_embedded_mode_serves_cookies_over_plain_http(settings, make_user):
    from fondo.config import load_settings

    embedded = {**settings, "BROKER_URL": "filesystem://"}
    assert load_settings(embedded)["SECURE_COOKIES"] is False
    assert load_settings({**embedded, "SECURE_COOKIES": "true"})["SECURE_COOKIES"] is True
    app = create_app({**settings, "SECURE_COOKIES": False})
    email, password, _ = make_user("officer")
    cookie = sign_in(app.test_client(), email, password).headers["Set-Cookie"]
    assert "; HttpOnly" in cookie and "Secure" not in cookie


def test_hsts_only_over_https(client):
    assert client.get("/", base_url="https://localhost").headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_hsts_behind_a_tls_proxy_only_when_the_proxy_is_trusted(settings):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    trusted = create_app({**settings, "TRUSTED_PROXIES": 1}).test_client()
    assert trusted.get("/", headers=forwarded).headers["Strict-Transport-Security"] == HSTS
    direct = create_app(settings).test_client()
    assert "Strict-Transport-Security" not in direct.get("/", headers=forwarded).headers


# ------------------------------------------------------------------ investors' limited partners


def test_admins_create_investors_with_their_limited_partners(client, settings, auth_headers):
    from fondo.fund.models import Fund, LimitedPartner

    with session_scope(settings) as session:
        fund = Fund(name="Fund (users API test)")
        session.add(fund)
        session.flush()
        lp = LimitedPartner(fund_id=fund.id, name="LP", country="MX", kind="development_bank",
                            commitment_amount=2e9, commitment_currency="MXN")
        session.add(lp)
        session.flush()
        lp_id = lp.id
    admin = auth_headers("admin")
    body = {"email": "inv@example.org", "role": "investor", "password": "long enough",
            "limited_partner_ids": [lp_id]}
    created = client.post("/api/v1/users", json=body, headers=admin)
    assert created.status_code == 201 and created.json["limited_partner_ids"] == [lp_id]
    refused = client.post("/api/v1/users", headers=admin, json={
        **body, "email": "an@example.org", "role": "analyst"})
    assert refused.status_code == 422 and refused.json["field"] == "limited_partner_ids"
    unknown = client.post("/api/v1/users", headers=admin, json={
        **body, "email": "other@example.org", "limited_partner_ids": [lp_id + 1000]})
    assert unknown.status_code == 422 and unknown.json["field"] == "limited_partner_ids"
    from fondo.accounts.models import User

    with session_scope(settings) as session:
        emails = set(session.scalars(select(User.email)))
    assert "an@example.org" not in emails and "other@example.org" not in emails


# ------------------------------------------------------------------ limits per real client


def _failed_logins(client, n: int, forwarded_for: str | None = None) -> list[int]:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    token = _csrf(client.get("/login", headers=headers).get_data(as_text=True))
    return [client.post("/login", headers=headers, data={
        "email": "nobody@example.org", "password": "wrong password", "csrf_token": token}
    ).status_code for _ in range(n)]


def test_behind_a_trusted_proxy_each_client_has_its_own_login_budget(settings):
    client = create_app({**settings, "TRUSTED_PROXIES": 1}).test_client()
    assert _failed_logins(client, 11, "203.0.113.1") == [401] * 10 + [429]
    assert _failed_logins(client, 1, "203.0.113.2") == [401]  # a neighbour is not locked out
    # a client cannot buy a fresh budget by prepending addresses: only the proxy's hop counts
    assert _failed_logins(client, 1, "198.51.100.7, 203.0.113.1") == [429]


def test_without_trusted_proxies_forwarded_for_is_ignored(settings):
    client = create_app(settings).test_client()
    assert _failed_logins(client, 10, "203.0.113.1") == [401] * 10
    assert _failed_logins(client, 1, "203.0.113.2") == [429]  # same peer: same budget


def test_proxy_count_is_a_checked_setting():
    from fondo.config import ConfigError, load_settings

    assert load_settings({}, environ={"FONDO_TRUSTED_PROXIES": "2"})["TRUSTED_PROXIES"] == 2
    for bad in ("-1", "one"):
        with pytest.raises(ConfigError, match="FONDO_TRUSTED_PROXIES"):
            load_settings({}, environ={"FONDO_TRUSTED_PROXIES": bad})


def test_production_mode_counts_in_the_redis_broker_unless_told_otherwise():
    from fondo.config import load_settings

    redis = "redis://cache.internal:6379/0"
    assert load_settings({"BROKER_URL": redis})["RATELIMIT_STORAGE_URL"] == redis
    assert load_settings({"BROKER_URL": redis, "RATELIMIT_STORAGE_URL": "redis://other:6379/2"}
                         )["RATELIMIT_STORAGE_URL"] == "redis://other:6379/2"
    assert load_settings({})["RATELIMIT_STORAGE_URL"] == "memory://"  # embedded: one process


def test_receipt_lookups_share_one_budget_across_portal_and_api(settings):
    client = create_app({**settings, "RATELIMIT_RECEIPT_LOOKUP": "3 per minute"}).test_client()
    assert client.get("/consulta/recibo").status_code == 200  # the empty form costs nothing
    codes = [client.get("/api/v1/feedback/ABCDE-FGHJK").status_code for _ in range(2)]
    codes.append(client.get("/consulta/recibo?codigo=ABCDE-FGHJK").status_code)
    assert codes == [404, 404, 404]
    api = client.get("/api/v1/feedback/ABCDE-FGHJK")
    assert api.status_code == 429 and api.mimetype == PROBLEM and api.json["status"] == 429
    assert int(api.headers["Retry-After"]) > 0
    assert client.get("/consulta/recibo?codigo=ABCDE-FGHJK").status_code == 429


def test_failed_bearer_tokens_are_limited_per_address(settings, make_user):
    app = create_app({**settings, "RATELIMIT_BEARER_FAILURES": "3 per minute",
                      "TRUSTED_PROXIES": 1})
    client = app.test_client()
    _email, _password, token = make_user("officer")
    good = {"Authorization": f"Bearer {token}", "X-Forwarded-For": "203.0.113.1"}
    assert [client.get("/api/v1/me", headers=good).status_code for _ in range(5)] == [200] * 5
    forged = {"Authorization": "Bearer fondo_guess", "X-Forwarded-For": "203.0.113.1"}
    codes = [client.get("/api/v1/me", headers=forged).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]  # valid tokens did not count, failures did
    locked = client.get("/api/v1/me", headers=good)  # the address is locked for the window
    assert locked.status_code == 429 and locked.mimetype == PROBLEM
    assert 0 < int(locked.headers["Retry-After"]) <= 60
    assert "failed bearer tokens" in locked.json["detail"]
    elsewhere = {**good, "X-Forwarded-For": "203.0.113.2"}
    assert client.get("/api/v1/me", headers=elsewhere).status_code == 200
