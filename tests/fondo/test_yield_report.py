"""The lender-grade PDF report of a yield study and the tables behind its charts.

The tables are checked by hand arithmetic (a loss fraction times the energy reaching the
step is the energy lost; compound degradation; hourly means), the PDF by its text
(``pdftotext``: title page, every section, worded losses, no raw identifier or JSON) and by
rendering its pages to PNG (``pdftoppm``), kept under ``FONDO_TEST_ARTEFACTS`` for a person
to look at.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from fondo.db import session_scope
from fondo.studies import report, report_charts
from fondo.studies import service as svc
from siting.weather import parse_epw

#: Relative tolerance of sums over a dozen loss steps. [-]
LOSS_RTOL = 1e-9
#: Where screenshots and rendered pages are kept (git-ignored; see README "Tests").
ARTEFACTS = Path(os.environ.get("FONDO_TEST_ARTEFACTS", Path(__file__).resolve().parents[2]
                                / "test-artefacts"))
PV_STUDY = {"technology": "pv", "request": {
    "lat": 21.0, "lon": -101.3, "capacity_dc_kw": 20000.0, "tracking": "single_axis",
    "gcr": 0.35, "degradation_rate_per_year": 0.006, "operating_year": 1}}
WIND_STUDY = {"technology": "wind", "request": {
    "lat": 25.6, "lon": -100.2, "turbine_type": "E-126/4200", "hub_height_m": 120.0,
    "turbine_count": 4}}
#: Identifiers that must never reach the report's reader as such.
RAW_IDENTIFIERS = ("self_shading_and_bifacial", "temperature_and_dc_model", "reflection_iam",
                   "inverter_clipping", "uncertainty_components", "weather_file_representativeness",
                   "interannual_variability", "system_loss_breakdown")


def _stored(settings, body):
    with session_scope(settings) as session:
        _job, study = svc.create_study(settings, session, body)
        study_id = study.id
    return svc.run_stored_study(settings, study_id)


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def test_loss_steps_rebuild_the_energy_chain():
    # hand example: 1000 kWh before losses, 10 % then 5 % then 0 %
    result = {"energy_annual_kwh": 855.0, "losses": [
        {"name": "soiling", "fraction": 0.10, "energy_kwh": 100.0},
        {"name": "wiring", "fraction": 0.05, "energy_kwh": 45.0},
        {"name": "snow", "fraction": 0.0, "energy_kwh": 0.0}]}
    steps = report_charts.loss_steps(result)
    assert [s.energy_before_kwh for s in steps] == [1000.0, 900.0, 855.0]
    assert [s.energy_after_kwh for s in steps] == [900.0, 855.0, 855.0]
    assert [s.energy_lost_kwh for s in steps] == [100.0, 45.0, 0.0]


def test_engine_losses_are_energy_lost_not_energy_after(settings):
    """The result's ``energy_kwh`` of a step is the fraction of the energy reaching it."""
    record = _stored(settings, PV_STUDY)
    steps = report_charts.loss_steps(record["result"])
    assert_allclose([s.fraction * s.energy_before_kwh for s in steps],
                    [s.energy_lost_kwh for s in steps], rtol=LOSS_RTOL, atol=1e-6)
    assert_allclose(steps[-1].energy_after_kwh, record["result"]["energy_annual_kwh"],
                    rtol=LOSS_RTOL)


def test_degradation_table_is_compound_from_the_first_year():
    result = {"energy_annual_kwh": 1000.0,
              "assumptions": {"degradation_rate_per_year": 0.01, "operating_year": 1}}
    rows = report_charts.degradation_table(result, life_years=3)
    assert_allclose([e for _, e in rows], [1000.0, 990.0, 980.1], rtol=1e-12)
    # a result for operating year 3 is brought back to year 1: 980.1 / 0.99² = 1000
    later = {"energy_annual_kwh": 980.1,
             "assumptions": {"degradation_rate_per_year": 0.01, "operating_year": 3}}
    assert_allclose(report_charts.degradation_table(later, 1)[0][1], 1000.0, rtol=1e-12)
    wind = {"energy_annual_kwh": 500.0, "assumptions": {}}
    assert {e for _, e in report_charts.degradation_table(wind)} == {500.0}


def test_month_hour_table_means_by_hand():
    times = pd.date_range("2019-01-01", periods=8760, freq="h", tz="-06:00")
    hourly = pd.DataFrame({"time_start": [t.isoformat() for t in times],
                           "energy_ac_kwh": times.hour + 100.0 * times.month})
    table = report_charts.month_hour_table(hourly, "time_start", "energy_ac_kwh")
    assert table.shape == (12, 24)
    assert_allclose(table[0], np.arange(24) + 100.0)
    assert_allclose(table[11, 13], 13 + 1200.0)


def test_monthly_resource_sums_irradiance_in_kwh():
    index = pd.date_range("2019-01-01", periods=8760, freq="h", tz="-06:00")
    weather = pd.DataFrame({"ghi": 500.0, "temp_air": index.month.astype(float),
                            "wind_speed": 3.0}, index=index)
    table = report_charts.monthly_resource(weather)
    assert_allclose(table["ghi_kwh_per_m2"].iloc[0], 31 * 24 * 0.5)  # January: 372 kWh/m²
    assert_allclose(table["temp_air_mean_c"], np.arange(1, 13))


@pytest.mark.parametrize("body", [PV_STUDY, WIND_STUDY], ids=["pv", "wind"])
def test_report_is_a_lender_report(settings, body, tmp_path):
    record = _stored(settings, body)
    pdf = report.study_report_pdf(record, prepared_by="Ana Analista",
                                  today=dt.date(2026, 11, 30))
    text = _pdf_text(pdf, tmp_path)
    result = record["result"]
    station = result["station"]
    # title page
    for needle in ("Energy yield assessment", "Fondo version", report.fondo_version(),
                   "Prepared by", "Ana Analista", "2026-11-30", "Disclaimer",
                   f"latitude {body['request']['lat']:.5f}°",
                   f"longitude {body['request']['lon']:.5f}°"):
        assert needle in text, needle
    # site and resource: station and its distance
    assert f"{station['name']} (WMO {station['id']})" in text
    assert f"{station['distance_km']:,.1f} km" in text
    for section in ("1. Site and resource", "2. System description", "3. Energy",
                    "4. Loss tree and waterfall", "5. Exceedance values (P-values) and their "
                    "uncertainty", "6. Degradation over the plant's life", "7. Assumptions"):
        assert section in text, section
    # the loss table says what its columns hold, and the last "after" is the annual energy
    assert "Energy lost [kWh]" in text and "Energy after the step [kWh]" in text
    assert f"{result['energy_annual_kwh']:,.0f}" in text
    # each uncertainty component has its source
    for name in result["assumptions"]["uncertainty_components"]:
        assert report.UNCERTAINTY_SOURCES[body["technology"]][name].split(",")[0] in text
    # P50/P75/P90/P99 for one and ten years, in MWh
    for horizon in ("1_year", "10_year"):
        for value in result["p_values_kwh"][horizon].values():
            assert f"{value / 1000:,.1f}" in text
    # in words: no raw identifiers, no JSON
    for raw in RAW_IDENTIFIERS:
        assert raw not in text, raw
    assert not re.search(r"[{}]|\": ", text)


def test_report_from_the_export_has_the_monthly_resource(settings, tmp_path):
    record = _stored(settings, PV_STUDY)
    with session_scope(settings) as session:
        pdf = svc.export_study(settings, svc.get_study(session, record["id"]), "pdf")
    text = _pdf_text(pdf, tmp_path)
    assert "GHI [kWh/m²]" in text and "Temp. [°C]" in text
    # the station's own file, read here directly: its January and yearly irradiation
    station = record["result"]["station"]
    epw = next(Path(settings["DATA_DIR"]).glob(f"weather/*.{station['id']}_*.epw"))
    weather, _ = parse_epw(epw.read_bytes(), source=epw.name)
    january = weather["ghi"][weather.index.month == 1].sum() / 1000.0
    assert re.search(rf"Jan\s+{january:,.1f}\s", text)
    assert f"{weather['ghi'].sum() / 1000.0:,.0f}" in text


def test_report_pages_render_to_png(settings, tmp_path):
    """Render each page (kept as artefacts: look at them) and check they are real pages."""
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    from PIL import Image

    record = _stored(settings, PV_STUDY)
    with session_scope(settings) as session:
        pdf = svc.export_study(settings, svc.get_study(session, record["id"]), "pdf")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    out = ARTEFACTS / "report"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("pv-report-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(path), str(out / "pv-report")],
                   check=True)
    pages = sorted(out.glob("pv-report-*.png"))
    assert len(pages) >= 5
    for page in pages:
        image = np.asarray(Image.open(page).convert("L"))
        assert image.shape[0] > image.shape[1]  # A4 portrait
        assert (image < 128).mean() > 0.002  # something is printed on every page
    (out / "pv-report.json").write_text(json.dumps(record, indent=1), encoding="utf-8")


def test_export_names_who_requested_the_study(settings, tmp_path, make_user):
    from fondo.accounts.service import get_user_by_email

    email, _password, _token = make_user("analyst")
    with session_scope(settings) as session:
        user_id = get_user_by_email(session, email).id
        _job, study = svc.create_study(settings, session, PV_STUDY, user_id=user_id)
        study_id = study.id
    svc.run_stored_study(settings, study_id)
    with session_scope(settings) as session:
        pdf = svc.export_study(settings, svc.get_study(session, study_id), "pdf")
    assert email in _pdf_text(pdf, tmp_path)


def test_long_term_resource_keys_are_reported_in_words(settings, tmp_path):
    """``resource_method`` and ``resource_confidence`` (issue 16's one resource model) are on
    page one, as the method's label and the value, never as an identifier or JSON; the
    means the station's series was scaled to are in section 1."""
    from siting.resource import RESOURCE_METHOD_LABELS

    record = _stored(settings, PV_STUDY)
    result = record["result"]
    assert result["resource_method"] in RESOURCE_METHOD_LABELS
    text = _pdf_text(report.study_report_pdf(record), tmp_path)
    page_one = text.split("\x0c")[0]
    assert RESOURCE_METHOD_LABELS[result["resource_method"]] in " ".join(page_one.split())
    assert f"{result['resource_confidence']:.2f} on a 0–1 scale" in page_one
    assert result["resource_method"] not in text and "{" not in text
    site_ghi = result["resource"]["ghi_site_kwh_m2_day"]
    assert f"Long-term GHI at the site" in text and f"{site_ghi:,.2f} kWh/m²/day" in text

