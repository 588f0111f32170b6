"""Exports of a stored yield study checked against the study's own JSON.

The CSV's 8,760 hourly rows sum to the annual energy, the XLSX monthly sheet equals
``energy_monthly_kwh``, its loss tree equals ``losses``, the PDF is a PDF carrying the
station's name, and the JSON export's hourly series matches the CSV.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose
from openpyxl import load_workbook

from fondo.studies import exports as exports_yield
from fondo.studies import service as svc
from fondo.db import session_scope
from fondo.errors import Conflict, InvalidInput

#: Sum of 8,760 values written with 17 significant digits, in another order. [-]
SUM_RTOL = 1e-12
#: openpyxl writes floats with up to 17 significant digits; read back exactly. [-]
XLSX_RTOL = 1e-15
HOURS_PER_YEAR = 8760
PV_STUDY = {"technology": "pv", "request": {
    "lat": 25.6, "lon": -100.2, "capacity_dc_kw": 5000.0, "dc_ac_ratio": 1.3,
    "tracking": "single_axis", "gcr": 0.35, "system_losses": 0.14}}


@pytest.fixture
def stored(settings):
    """A finished PV study (single-axis tracker near Monterrey) and its JSON."""
    with session_scope(settings) as session:
        _job, study = svc.create_study(settings, session, PV_STUDY)
        study_id = study.id
    record = svc.run_stored_study(settings, study_id)
    return study_id, record


def _export(settings, study_id, fmt):
    with session_scope(settings) as session:
        return svc.export_study(settings, svc.get_study(session, study_id), fmt)


def test_csv_rows_sum_to_annual(settings, stored):
    study_id, record = stored
    rows = list(csv.DictReader(io.StringIO(_export(settings, study_id, "csv").decode())))
    assert len(rows) == HOURS_PER_YEAR
    assert list(rows[0]) == [svc.HOURLY_TIME_COLUMN, svc.HOURLY_ENERGY_COLUMN]
    assert rows[0][svc.HOURLY_TIME_COLUMN].endswith("-06:00")
    total = sum(float(r[svc.HOURLY_ENERGY_COLUMN]) for r in rows)
    assert_allclose(total, record["result"]["energy_annual_kwh"], rtol=SUM_RTOL)


def test_xlsx_sheets_equal_json(settings, stored):
    study_id, record = stored
    result = record["result"]
    book = load_workbook(io.BytesIO(_export(settings, study_id, "xlsx")), read_only=True)
    assert book.sheetnames == ["summary", "monthly", "loss tree", "p-values", "assumptions"]
    monthly = list(book["monthly"].iter_rows(min_row=2, values_only=True))
    assert [m for m, _ in monthly[:12]] == list(exports_yield.MONTHS)
    assert_allclose([v for _, v in monthly[:12]], result["energy_monthly_kwh"], rtol=XLSX_RTOL)
    assert_allclose(monthly[12][1], result["energy_annual_kwh"], rtol=XLSX_RTOL)
    losses = list(book["loss tree"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in losses] == [s["name"] for s in result["losses"]]
    assert_allclose([r[2] for r in losses], [s["energy_kwh"] for s in result["losses"]],
                    rtol=XLSX_RTOL)
    summary = {k: v for k, v in book["summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Station"].startswith(result["station"]["name"])
    assert_allclose(summary["P90, 1 year [kWh]"], result["p90_kwh"], rtol=XLSX_RTOL)
    assumptions = {k: v for k, v in book["assumptions"].iter_rows(min_row=2, values_only=True)}
    assert assumptions["tracking"] == "single_axis"


def test_pdf_is_a_report_with_the_station(settings, stored):
    study_id, record = stored
    pdf = _export(settings, study_id, "pdf")
    assert pdf.startswith(b"%PDF-")
    name = record["result"]["station"]["name"].encode("latin-1")
    # reportlab writes page text uncompressed; the name is also the document's subject
    assert name in pdf
    for heading in (b"Loss tree", b"Exceedance values", b"Assumptions", b"/Image"):
        assert heading in pdf


def test_json_export_matches_csv(settings, stored):
    study_id, record = stored
    body = json.loads(_export(settings, study_id, "json"))
    assert body["result"] == record["result"]
    # the study's stored hourly CSV, read as written (not through the export code)
    with session_scope(settings) as session:
        path = svc.hourly_path(settings, svc.get_study(session, study_id))
    with path.open(encoding="utf-8", newline="") as stored_csv:
        rows = list(csv.DictReader(stored_csv))
    assert len(rows) == HOURS_PER_YEAR
    assert body["hourly"]["times"] == [r[svc.HOURLY_TIME_COLUMN] for r in rows]
    # the same doubles, to one ulp: the export parses the CSV's 17 significant digits with
    # pandas' default float parser, which may round the last bit unlike float() [-]
    one_ulp_rtol = 2.0**-52
    assert_allclose(body["hourly"]["energy_hourly_kwh"],
                    [float(r[svc.HOURLY_ENERGY_COLUMN]) for r in rows], rtol=one_ulp_rtol, atol=0)
    assert_allclose(sum(body["hourly"]["energy_hourly_kwh"]),
                    record["result"]["energy_annual_kwh"], rtol=SUM_RTOL)


def test_unfinished_or_unknown_format(settings, stored):
    study_id, _ = stored
    with pytest.raises(InvalidInput) as caught:
        _export(settings, study_id, "docx")
    assert caught.value.field == "format"
    with session_scope(settings) as session:
        _job, pending = svc.create_study(settings, session, PV_STUDY)
        with pytest.raises(Conflict):
            svc.export_study(settings, pending, "csv")


def test_cli_study_export(settings, stored, tmp_path):
    from fondo.cli import main

    study_id, record = stored
    out = tmp_path / "study.xlsx"
    runner = CliRunner()
    result = runner.invoke(main, ["study", "export", str(study_id), "--format", "xlsx",
                                  "--out", str(out)], obj={"settings": settings})
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:2] == b"PK"
    result = runner.invoke(main, ["study", "export", str(study_id), "--format", "csv"],
                           obj={"settings": settings})
    assert result.exit_code == 0 and result.output.count("\n") == HOURS_PER_YEAR + 1
    result = runner.invoke(main, ["study", "export", "999", "--format", "json"],
                           obj={"settings": settings})
    assert result.exit_code == 1 and "999" in result.output
