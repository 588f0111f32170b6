"""An app with one stored row of each kind, for tests that call every API operation.

:func:`fuzz_target` (a fixture) builds the app over the test's throwaway database, its
tasks run as they are sent (``TASK_ALWAYS_EAGER``, so an accepted value meets the worker's
code in the same request) with screenings limited to :data:`MAX_CELLS` cells, the public
rate limits lifted (a fuzzer is one client sending thousands of requests), an admin's
bearer token, and through the API itself a consultation with a submission, a
finance case with a Monte Carlo run, a stored study and a screening, so
that the path parameters of every operation can name a row that exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import shapely

#: The Huasteca site of the consultation tests (a consultation is required there). [°]
TAMAZUNCHALE_LAT, TAMAZUNCHALE_LON = 21.26274, -98.79152
#: Requests one client may send per minute in these tests (the fuzzer sends thousands).
UNLIMITED = "1000000 per minute"
#: Largest screening of these tests (the server's ``SCREENING_MAX_CELLS``): tasks run as
#: they are sent, so a fuzzer's corridor at 100 m is refused rather than screened. [cells]
MAX_CELLS = 64
#: Bodies that the app accepts, one per JSON endpoint that needs one (contract names).
PV = {"lat": 21.88, "lon": -102.3, "capacity_dc_kw": 2000.0}
WIND = {"lat": 25.45, "lon": -101.0, "turbine_type": "E-126/4200", "hub_height_m": 135.0}
CASE = {
    "capacity_mw": 40, "energy_p50_mwh": 96_000, "energy_p90_mwh": 88_000, "life_years": 25,
    "capex_usd": 36e6, "opex_usd_per_kw_year": 14, "ppa_price_usd_per_mwh": 52,
    "discount_rate": 0.08,
    "tranches": [{"name": "Senior", "kind": "senior_debt", "rate": 0.068, "tenor_years": 15,
                  "target_dscr": 1.3, "max_gearing": 0.75},
                 {"name": "Sponsor", "kind": "equity", "share": 1.0}],
}
#: A 500 m square near Aguascalientes. [°]
TINY_POLYGON = {"type": "Polygon", "coordinates": [[
    [-102.30, 21.85], [-102.295, 21.85], [-102.295, 21.855], [-102.30, 21.855],
    [-102.30, 21.85]]]}
SUBMISSION = {"kind": "feedback", "category": "other", "text": "¿Cuándo es la asamblea?"}


@dataclass(frozen=True)
class FuzzTarget:
    """The app, an admin's token and the ids of the rows made for the path parameters."""

    app: Any
    settings: dict[str, Any]
    token: str
    ids: dict[str, Any]

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def path_parameters(self) -> dict[str, Any]:
        """schemathesis ``parameters``: every path id names a stored row."""
        return {f"path.{name}": value for name, value in self.ids.items()}


def _created(response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    return response.get_json()


@pytest.fixture
def fuzz_target(settings) -> FuzzTarget:
    from fondo.accounts.service import create_token, create_user
    from fondo.db import session_scope
    from fondo.fund.models import Fund, LimitedPartner, Project, Site
    from fondo.orm import Technology
    from web import create_app

    config = dict(settings, SCREENING_MAX_CELLS=MAX_CELLS, RATELIMIT_PUBLIC=UNLIMITED,
                  RATELIMIT_RECEIPT_LOOKUP=UNLIMITED, RATELIMIT_BEARER_FAILURES=UNLIMITED)
    app = create_app(config)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # an exception is a 500, as a server answers
    email = f"admin-{uuid.uuid4().hex[:6]}@example.org"
    with session_scope(settings) as session:
        create_user(session, email, "admin", "correct horse battery")
        token = create_token(session, email, "fuzz")
        site = Site(name="Huasteca", technology=Technology.WIND,
                    geometry=shapely.Point(TAMAZUNCHALE_LON, TAMAZUNCHALE_LAT))
        session.add(site)
        session.flush()
        fund = Fund(name=f"Fuzz fund {uuid.uuid4().hex[:6]}", base_currency="USD")
        session.add(fund)
        session.flush()
        lp = LimitedPartner(fund_id=fund.id, name="Fuzz LP", country="CA", kind="pension_fund",
                            commitment_amount=Decimal("100000000.00"),
                            commitment_currency="USD")
        session.add(lp)
        project = Project(name="Parque Eólico Huasteca", technology=Technology.WIND,
                          site_id=site.id, fund_id=fund.id)
        session.add(project)
        session.flush()
        project_id, site_id, fund_id, lp_id = project.id, site.id, fund.id, lp.id
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def post(path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        return _created(client.post(path, json=body, headers=headers), status)

    consultation = post("/api/v1/consultations", {"project_id": project_id})
    cid = consultation["id"]
    submission = post(f"/api/v1/consultations/{cid}/feedback", SUBMISSION)
    listed = client.get(f"/api/v1/consultations/{cid}/feedback", headers=headers).get_json()
    case = post("/api/v1/finance/cases", CASE | {"project_id": project_id})
    run = post(f"/api/v1/finance/cases/{case['id']}/montecarlo", {"n_draws": 100}, 202)
    study = post("/api/v1/studies", {"technology": "pv", "request": PV}, 202)
    screening = post("/api/v1/screenings", {"geometry": TINY_POLYGON, "technology": "pv",
                                            "resolution_km": 0.25}, 202)
    ids = {
        "project_id": project_id,
        "consultation_id": cid,
        "feedback_id": listed["feedback"][0]["id"],
        "code": submission["receipt_code"],
        "commitment_id": "C-1",  # commitments and notices come in later phases: 404
        "notice_id": 1,
        "case_id": case["id"],
        "run_id": int(run["run"].rsplit("/", 1)[1]),
        "study_id": study["study_id"],
        "screening_id": screening["screening_id"],
        "task_id": study["id"],
        "fund_id": fund_id,
        "lp_id": lp_id,
        "site_id": site_id,
        "fmt": "json",
        "technology": "pv",
        "layer_id": "corridors",
        "z": 6, "x": 14, "y": 28,
    }
    return FuzzTarget(app=app, settings=config, token=token, ids=ids)
