"""The PDF report of a stored yield study, written for a lender's technical adviser.

Sections, in the order an independent engineer's energy-yield assessment follows them:
title page (project, site, coordinates, date, Fondo version, prepared by, disclaimer);
1 site and resource (the station used and its distance, the monthly resource, the
long-term reference it was scaled to when the study says so); 2 system description;
3 energy (monthly chart and table); 4 losses (waterfall chart and table: energy lost at
each step and energy after it); 5 uncertainty and P-values (each component with its
source, P50/P75/P90/P99 over 1 and 10 years); 6 degradation over the plant's life;
7 assumptions in words. Nothing is printed as raw JSON or as a raw identifier: every key
the report knows is worded in :data:`LOSS_STEP_LABELS`, :data:`UNCERTAINTY_SOURCES` and
the assumption sentences; a key it does not know is humanised ("wake_losses" → "Wake
losses").

reportlab and matplotlib are imported when a report is made, not with the module.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import io
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

import pandas as pd

from fondo.studies import report_charts as charts
from siting.resource import RESOURCE_METHOD_LABELS

#: Words for each step of the loss trees (PV: pvlib/PVWatts chain; wind: windpowerlib).
LOSS_STEP_LABELS = {
    "self_shading_and_bifacial": "Row self-shading and bifacial gain",
    "reflection_iam": "Reflection (incidence angle)",
    "temperature_and_dc_model": "Module temperature and DC model",
    "soiling": "Soiling",
    "shading": "External shading",
    "snow": "Snow",
    "mismatch": "Module mismatch",
    "wiring": "DC wiring",
    "connections": "Connections",
    "light_induced_degradation": "Light-induced degradation",
    "nameplate": "Nameplate rating",
    "age": "Age",
    "availability": "Availability",
    "degradation": "Degradation to the operating year",
    "inverter_efficiency": "Inverter efficiency",
    "inverter_clipping": "Inverter clipping",
    "air_density": "Air density at the site",
    "wake": "Wake losses",
    "electrical": "Electrical losses",
}
#: Uncertainty components in words, with the source of each default value (the same as
#: :data:`siting.uncertainty.PV_UNCERTAINTY_DEFAULTS` and ``WIND_UNCERTAINTY_DEFAULTS`` cite).
UNCERTAINTY_LABELS = {
    "interannual_variability": "Inter-annual variability of the resource",
    "weather_file_representativeness": "Representativeness of the weather file",
    "model": "Energy model",
    "other": "Other (transposition, losses, wakes)",
}
UNCERTAINTY_SOURCES = {
    "pv": {
        "interannual_variability": "Gueymard & Wilcox 2011, Solar Energy 85, 1068-1084",
        "weather_file_representativeness": "TMYx from ERA5, ~31 km (data/SOURCES-weather.md)",
        "model": "Freeman et al. 2014, NREL/TP-6A20-61497",
        "other": "Thevenard & Pelland 2013, Solar Energy 91, 432-445",
    },
    "wind": {
        "interannual_variability": "Clifton & Lundquist 2012; IEC 61400-15 practice",
        "weather_file_representativeness": "10 m airport station carried to hub height",
        "long_term_resource_estimate": "Fondo wind resource: WRF 80 m where it covers, else "
                                       "stations calibrated on terrain; sigma from the "
                                       "leave-one-domain-out validation (docs/screening.md)",
        "model": "IEC 61400-12-1 power-curve uncertainty",
        "other": "Lee & Fields 2021, Wind Energ. Sci. 6, 311-365",
    },
}
#: Horizons of the P-values table.
HORIZON_LABELS = {"1_year": "One year", "10_year": "Ten-year mean"}
#: Disclaimer of the title page.
DISCLAIMER = (
    "This report was produced automatically by Fondo from public typical-year weather data "
    "and the models named in it. It is a desk study: it does not replace on-site resource "
    "measurement, a site visit or the independent engineer's own review. Figures are "
    "estimates with the uncertainty stated in section 5; the fund and the authors accept "
    "no liability for decisions taken on them alone.")
#: How the station was chosen, in words (``assumptions.station_choice``).
STATION_CHOICE_WORDS = {
    "requested station_id": "station named in the request",
    "nearest station in the site's corridor": "nearest station in the site's corridor",
    "nearest station": "nearest station",
}
#: Where the site elevation came from, in words (``assumptions.site_elevation_source``).
ELEVATION_SOURCE_WORDS = {
    "request": "given in the request or resolved when the study was stored",
    "dem_corridor_1km": "the bundled 1 km elevation model of the corridor",
}
#: The long-term resource's figures in a study's ``resource`` detail: (label, unit, digits).
RESOURCE_DETAIL_LABELS = {
    "ghi_site_kwh_m2_day": ("Long-term GHI at the site", "kWh/m²/day", 2),
    "ghi_station_kwh_m2_day": ("GHI of the station's series", "kWh/m²/day", 2),
    "irradiance_scale_factor": ("Station irradiance scaled by", "", 3),
    "wind_speed_site_m_s": ("Long-term mean wind speed at the site", "m/s", 2),
    "wind_speed_height_m": ("Height of that wind speed", "m", 0),
    "wind_speed_sigma_relative": ("Uncertainty of the long-term wind speed (1σ)", "%", 1),
}


def fondo_version() -> str:
    """The installed Fondo version (``unknown`` when run from an uninstalled tree)."""
    try:
        return importlib.metadata.version("fondo")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def humanise(key: str) -> str:
    """``wake_losses`` → ``Wake losses`` (for a key the report has no words for)."""
    return str(key).replace("_", " ").strip().capitalize()


def _number(value: Any, digits: int = 0) -> str:
    text = f"{float(value):,.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0"


def _pct(fraction: Any, digits: int = 1) -> str:
    return f"{_number(100.0 * float(fraction), digits)} %"


def _value_words(value: Any) -> str:
    """A value in words: numbers formatted, mappings as 'key: value' phrases, no JSON."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, Mapping):
        return "; ".join(f"{humanise(k)}: {_value_words(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_value_words(v) for v in value)
    return "—" if value is None else str(value)


def pv_system_rows(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """System description of a PV study (label, value)."""
    a = result["assumptions"]
    tracking = ("single-axis tracker with backtracking, maximum rotation "
                f"{_number(a.get('tracker_max_angle_deg', 0))}°"
                if a.get("tracking") == "single_axis" else
                f"fixed, tilt {_number(a.get('tilt_deg', 0), 1)}°, azimuth "
                f"{_number(a.get('azimuth_deg', 180))}° (180° = south)")
    return [
        ("DC capacity", f"{_number(result['capacity_kw'])} kWp"),
        ("AC capacity", f"{_number(a.get('ac_capacity_kw', 0))} kW"),
        ("DC/AC ratio", _number(a.get("dc_ac_ratio", 0), 2)),
        ("Mounting", tracking),
        ("Ground coverage ratio", _number(a.get("gcr", 0), 2)),
        ("Module power temperature coefficient", f"{100 * a.get('gamma_pdc_per_c', 0):.2f} %/°C"),
        ("Nominal operating cell temperature", f"{_number(a.get('noct_c', 0), 1)} °C"),
        ("Nominal inverter efficiency", _pct(a.get("inverter_efficiency_nominal", 0))),
        ("Bifacial rear-side gain", _pct(a.get("bifacial_gain", 0))),
        ("Model", str(a.get("model", ""))),
    ]


def wind_system_rows(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """System description of a wind study (label, value)."""
    a = result["assumptions"]
    return [
        ("Turbine", f"{a.get('turbine_type')} ({_number(a.get('turbine_rated_power_kw', 0))} kW)"),
        ("Number of turbines", str(a.get("turbine_count"))),
        ("Farm nameplate capacity", f"{_number(result['capacity_kw'])} kW"),
        ("Hub height", f"{_number(a.get('hub_height_m', 0))} m"),
        ("Roughness length", f"{a.get('roughness_length_m')} m"
         + (f" ({humanise(a['land_cover'])})" if a.get("land_cover") else "")),
        ("Mean air density at hub height",
         f"{_number(a.get('mean_air_density_kg_per_m3', 0), 3)} kg/m³"),
        ("Mean wind speed at hub height", f"{_number(a.get('mean_hub_wind_speed_m_s', 0), 2)} m/s"),
        ("Density correction", str(a.get("density_correction_source")
                                   or a.get("density_correction_method") or "—")),
        ("Wake losses", f"{_pct(a.get('wake_losses', 0))} ({a.get('wake_losses_source', '')})"),
        ("Model", str(a.get("model", ""))),
    ]


def _elevation_source(source: str | None) -> str:
    return ELEVATION_SOURCE_WORDS.get(source or "request", humanise(source or "request"))


def assumption_sentences(record: Mapping[str, Any]) -> list[str]:
    """The study's assumptions as sentences (what was assumed, and where it came from)."""
    result = record["result"]
    a = result["assumptions"]
    station = result["station"]
    out = [
        f"Weather: the typical meteorological year (TMYx) of {station['name']} "
        f"(WMO {station['id']}), {_number(station['distance_km'], 1)} km from the site, "
        f"chosen as the {STATION_CHOICE_WORDS.get(a.get('station_choice'), 'nearest station')}. "
        f"Hourly values are "
        f"labelled at the {a.get('weather_time_label', 'interval start')}.",
        f"Site elevation: {_number(a.get('site_elevation_m', 0))} m "
        f"(source: {_elevation_source(a.get('site_elevation_source'))}).",
    ]
    if a.get("site_corridor"):
        out.append(f"The site lies in the {humanise(a['site_corridor'])} corridor.")
    if record["technology"] == "pv":
        breakdown = a.get("system_loss_breakdown") or {}
        parts = ", ".join(f"{LOSS_STEP_LABELS.get(k, humanise(k)).lower()} {_pct(v)}"
                          for k, v in breakdown.items() if v)
        out.append(f"System losses of {_pct(a.get('system_losses', 0))} in all"
                   + (f": {parts}." if parts else "."))
        out.append(f"Modules lose {_pct(a.get('degradation_rate_per_year', 0), 2)} of their "
                   f"output each year (compound); the figures are for operating year "
                   f"{a.get('operating_year', 1)}.")
        if a.get("poa_irradiation_kwh_per_m2"):
            out.append(f"Plane-of-array irradiation: "
                       f"{_number(a['poa_irradiation_kwh_per_m2'])} kWh/m² per year.")
    else:
        breakdown = a.get("other_loss_breakdown") or {}
        parts = ", ".join(f"{LOSS_STEP_LABELS.get(k, humanise(k)).lower()} {_pct(v)}"
                          for k, v in breakdown.items())
        out.append(f"Wake losses {_pct(a.get('wake_losses', 0))} "
                   f"({a.get('wake_losses_source', 'as given')}); other losses "
                   f"{_pct(a.get('other_losses', 0))}" + (f" ({parts})." if parts else "."))
        out.append(f"The station's 10 m wind is carried to the hub with a logarithmic profile "
                   f"(roughness length {a.get('roughness_length_m')} m).")
        if a.get("wrf_note"):
            out.append(f"Long-term reference: {a['wrf_note']}.")
    out.append("Uncertainty components are independent and combined in quadrature; the "
               "inter-annual component is divided by the square root of the years averaged.")
    return out


def resource_method_words(result: Mapping[str, Any]) -> tuple[str, str]:
    """The long-term resource method in words and its confidence (page one of the report)."""
    method = result.get("resource_method") or (result.get("assumptions") or {}).get(
        "resource_method")
    confidence = result.get("resource_confidence")
    label = RESOURCE_METHOD_LABELS.get(method, humanise(method) if method else "—")
    if confidence is None:
        return label, "not rated (the station's own series)"
    return label, f"{float(confidence):.2f} on a 0–1 scale (1: measured at the site)"


def resource_rows(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What the study says of its long-term resource reference (method, confidence, the means
    it was scaled to and by how much)."""
    a = result.get("assumptions") or {}
    method, confidence = resource_method_words(result)
    rows = [("Long-term resource method", method), ("Resource confidence", confidence)]
    detail = result.get("resource") or {}
    for key, (label, unit, digits) in RESOURCE_DETAIL_LABELS.items():
        if detail.get(key) is not None:
            value = float(detail[key]) * (100.0 if unit == "%" else 1.0)
            rows.append((label, f"{_number(value, digits)} {unit}".strip()))
    if a.get("wrf_mean_wind_speed_m_s") is not None and "wind_speed_site_m_s" not in detail:
        rows.append(("Long-term reference (WRF mean wind speed)",
                     f"{_number(a['wrf_mean_wind_speed_m_s'], 2)} m/s at "
                     f"{_number(a.get('wrf_height_m') or 0)} m"))
    if "wind_scaled_to_wrf" in a:
        rows.append(("Station hours mapped onto the site's hub-height distribution "
                     "(Weibull at the long-term mean)",
                     "yes" if a["wind_scaled_to_wrf"] else "no"))
    return rows


def _png(figure) -> io.BytesIO:
    return io.BytesIO(charts.render(figure, "png"))


def study_report_pdf(record: Mapping[str, Any], *, weather: pd.DataFrame | None = None,
                     prepared_by: str | None = None,
                     project: str | None = None, today: dt.date | None = None) -> bytes:
    """The report of a finished study as PDF bytes.

    Parameters
    ----------
    record : mapping
        :func:`fondo.studies.service.study_json` of a finished study.
    weather : DataFrame, optional
        The station's typical-year weather (``ghi`` [W/m²], ``temp_air`` [°C],
        ``wind_speed`` [m/s]): adds the monthly resource chart and table.
    prepared_by, project : str, optional
        Who prepared the study; the project it belongs to.
    today : date, optional
        Date printed as the report's date (default: today, UTC).
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import (Image, KeepTogether, PageBreak, Paragraph,
                                    SimpleDocTemplate, Spacer, Table, TableStyle)

    result = record["result"]
    station = result["station"]
    request = record.get("request") or {}
    technology = "Photovoltaic" if record["technology"] == "pv" else "Wind"
    styles = getSampleStyleSheet()
    body, h1, h2 = styles["BodyText"], styles["Title"], styles["Heading2"]
    small = body.clone("small", fontSize=8, leading=10)
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6efe9")),
                       ("FONTSIZE", (0, 0), (-1, -1), 8), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    keyvalue = TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                           ("FONTSIZE", (0, 0), (-1, -1), 8),
                           ("VALIGN", (0, 0), (-1, -1), "TOP")])
    version = fondo_version()
    date = (today or dt.datetime.now(dt.timezone.utc).date()).isoformat()
    lat, lon = request.get("lat"), request.get("lon")
    title = f"Energy yield assessment: {technology.lower()} study {record['id']}"
    author = prepared_by or "Fondo analyst"

    def para(text: str, style=body) -> Paragraph:
        return Paragraph(escape(text), style)

    def cells(rows, widths=(6 * cm, 11 * cm)) -> Table:
        return Table([[para(k, small), para(v, small)] for k, v in rows], colWidths=widths,
                     style=keyvalue, hAlign="LEFT")

    def image(figure, height_cm: float) -> Image:
        return Image(_png(figure), width=17 * cm, height=height_cm * cm)

    story: list[Any] = [Spacer(1, 3 * cm), para("Energy yield assessment", h1),
                        para(f"{technology} plant, {_number(result['capacity_kw'] / 1000, 2)} "
                             f"MW{'p' if record['technology'] == 'pv' else ''}",
                             styles["Heading2"]), Spacer(1, 1 * cm)]
    story.append(cells([
        ("Project", project or f"Yield study {record['id']}"
         + (f" (site {record['site_id']})" if record.get("site_id") else "")),
        ("Site coordinates (WGS 84)", f"latitude {lat:.5f}°, longitude {lon:.5f}°"
         if lat is not None and lon is not None else "—"),
        ("Corridor", humanise(result["assumptions"].get("site_corridor") or "—")),
        ("Weather station", f"{station['name']} (WMO {station['id']}), "
                            f"{_number(station['distance_km'], 1)} km away"),
        ("Long-term resource method", resource_method_words(result)[0]),
        ("Resource confidence", resource_method_words(result)[1]),
        ("Report date", date),
        ("Study computed", str(record.get("created_at") or "—")[:19].replace("T", " ")
         + " UTC"),
        ("Fondo version", version),
        ("Prepared by", author),
        ("Study identifier", f"yield study {record['id']}"),
    ]))
    story += [Spacer(1, 1.5 * cm), para("Disclaimer", h2), para(DISCLAIMER), PageBreak()]

    # 1. Site and resource
    story.append(para("1. Site and resource", h2))
    site_rows = [("Weather station", f"{station['name']} (WMO {station['id']})"),
                 ("Distance from the site", f"{_number(station['distance_km'], 1)} km")]
    if station.get("elevation_difference_m") is not None:
        site_rows.append(("Site above the station",
                          f"{station['elevation_difference_m']:+.0f} m"))
    site_rows += resource_rows(result)
    story.append(cells(site_rows))
    if weather is not None:
        resource = charts.monthly_resource(weather)
        story += [Spacer(1, 0.3 * cm),
                  image(charts.resource_figure(resource, record["technology"]), 6.8)]
        table = [["Month", "GHI [kWh/m²]", "Wind [m/s]", "Temp. [°C]"]] + [
            [charts.MONTHS[i], _number(r.ghi_kwh_per_m2, 1), _number(r.wind_speed_mean_m_s, 2),
             _number(r.temp_air_mean_c, 1)] for i, r in enumerate(resource.itertuples())]
        table.append(["Year", _number(resource.ghi_kwh_per_m2.sum(), 0),
                      _number(weather["wind_speed"].mean(), 2),
                      _number(weather["temp_air"].mean(), 1)])
        story.append(Table(table, style=grid, hAlign="LEFT", repeatRows=1))
    # 2. System
    story += [KeepTogether([para("2. System description", h2),
                            cells(pv_system_rows(result) if record["technology"] == "pv"
                                  else wind_system_rows(result))])]
    # 3. Energy
    summary = [("Annual AC energy (P50, typical year)",
                f"{_number(result['energy_annual_kwh'] / 1000, 1)} MWh"),
               ("Capacity factor", _pct(result["capacity_factor"]))]
    if result.get("specific_yield_kwh_per_kwp") is not None:
        summary += [("Specific yield", f"{_number(result['specific_yield_kwh_per_kwp'])} kWh/kWp"),
                    ("Performance ratio", _pct(result["performance_ratio"]))]
    monthly = [["Month", *charts.MONTHS, "Year"],
               ["MWh", *[_number(v / 1000, 0) for v in result["energy_monthly_kwh"]],
                _number(result["energy_annual_kwh"] / 1000, 0)]]
    story += [para("3. Energy", h2), cells(summary), Spacer(1, 0.3 * cm),
              image(charts.monthly_energy_figure(result), 6.8),
              Table(monthly, style=grid, hAlign="LEFT")]
    # 4. Losses
    steps = charts.loss_steps(result)
    labels = {s.name: LOSS_STEP_LABELS.get(s.name, humanise(s.name)) for s in steps}
    losses = [["Step", "Loss [%]", "Energy lost [kWh]", "Energy after the step [kWh]"]]
    losses += [[para(labels[s.name], small), _pct(s.fraction, 2), _number(s.energy_lost_kwh),
                _number(s.energy_after_kwh)] for s in steps]
    story += [PageBreak(), para("4. Loss tree and waterfall", h2),
              para(f"Energy before losses: {_number(steps[0].energy_before_kwh if steps else 0)} "
                   "kWh. Each step's loss is a share of the energy reaching it."),
              image(charts.loss_waterfall_figure(steps, labels), 8.8),
              Table(losses, style=grid, hAlign="LEFT", repeatRows=1,
                    colWidths=[6.5 * cm, 2.2 * cm, 3.6 * cm, 4.7 * cm])]
    # 5. Uncertainty
    a = result["assumptions"]
    sources = UNCERTAINTY_SOURCES.get(record["technology"], {})
    components = [["Component", "Standard uncertainty", "Source"]] + [
        [para(UNCERTAINTY_LABELS.get(k, humanise(k)), small), _pct(v),
         para(sources.get(k, "as given in the request"), small)]
        for k, v in (a.get("uncertainty_components") or {}).items()]
    components += [["Combined, 1 year", _pct(a.get("uncertainty_combined_1_year", 0)), ""],
                   ["Combined, 10-year mean", _pct(a.get("uncertainty_combined_10_year", 0)), ""]]
    horizons = result.get("p_values_kwh", {})
    names = ["p50", "p75", "p90", "p99"]
    pvalues = [["Horizon"] + [f"{n.upper()} [MWh]" for n in names]] + [
        [HORIZON_LABELS.get(h, humanise(h)), *[_number(v[n] / 1000, 1) for n in names if n in v]]
        for h, v in horizons.items()]
    story += [KeepTogether([para("5. Exceedance values (P-values) and their uncertainty", h2),
                            Table(components, style=grid, hAlign="LEFT",
                                  colWidths=[6 * cm, 3 * cm, 8 * cm]), Spacer(1, 0.3 * cm),
                            para("Exceedance values: the energy exceeded with 50, 75, 90 and "
                                 "99 % probability in one year and on average over ten years."),
                            Table(pvalues, style=grid, hAlign="LEFT")])]
    # 6. Degradation
    rows = charts.degradation_table(result)
    rate = float(a.get("degradation_rate_per_year") or 0.0)
    every = [r for r in rows if r[0] == 1 or r[0] % 5 == 0]
    story += [para("6. Degradation over the plant's life", h2),
              para(f"Compound degradation of {_pct(rate, 2)} per year over "
                   f"{charts.REPORT_LIFE_YEARS} years (P50 energy; no degradation modelled "
                   "for wind turbines)." if record["technology"] == "pv" or rate else
                   f"No degradation is modelled for wind turbines: the P50 energy is the "
                   f"same over the {charts.REPORT_LIFE_YEARS} years shown."),
              image(charts.degradation_figure(rows), 6.3),
              Table([["Operating year", *[str(n) for n, _ in every]],
                     ["P50 [MWh]", *[_number(e / 1000, 0) for _, e in every]]],
                    style=grid, hAlign="LEFT")]
    # 7. Assumptions in words
    story += [para("7. Assumptions", h2)]
    story += [para(f"• {sentence}") for sentence in assumption_sentences(record)]

    def footer(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(2 * cm, 1 * cm, f"Fondo {version} · yield study {record['id']} · "
                                          f"{date}")
        canvas.drawRightString(A4[0] - 2 * cm, 1 * cm, f"page {document.page}")
        canvas.restoreState()

    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=A4, title=title, author=author,
                                 subject=f"Weather station: {station['name']} "
                                         f"(WMO {station['id']})",
                                 creator=f"Fondo {version}", leftMargin=2 * cm,
                                 rightMargin=2 * cm, topMargin=1.5 * cm, bottomMargin=1.8 * cm,
                                 pageCompression=0)
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
