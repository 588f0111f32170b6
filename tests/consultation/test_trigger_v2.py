"""The three-valued trigger (protocol version 2, issue 13) on the bundled INPI typology and
INEGI localities, and the same three values on screening cells (siting.communities).

Expected values are read off the data files by hand: INPI 2020 types and populations in
indigenous households from ``indigenous_municipal_typology_inpi2020.csv``; distances are
Euclidean in EPSG:6372, recomputed here with pyproj.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from consultation import trigger as tg
from siting.communities import consultation_columns, trigger_localities
from siting.parameters import PROJECTED_CRS, ConsultationParameters


def near(localities, lat, lon, km):
    return tg.localities_within_km(localities, lat, lon, km)


def test_type_c_with_indigenous_population_is_identification_required(typology, localities):
    # Aguascalientes city (010010001): municipality 01001 is type C with 4,318 people in
    # indigenous households; no A/B municipality within 5 km.
    row = typology.set_index("cvegeo").loc["01001"]
    assert row["tipo_code"] == "C" and int(row["pob_indigena_hogares"]) == 4318
    r = tg.consultation_required(typology, near(localities, 21.87982, -102.29605, 5), 5)
    assert r.requirement == "identification_required" and not r.required
    assert r.review_recommended and "01001" in r.identification_municipalities["cvegeo"].tolist()


def test_type_d_next_to_type_c_is_identification_required(typology, localities):
    # Los Aldamas (190030001) lies in type-D municipality 19003, but localities of a type-C
    # municipality lie within 5 km: the typology of the site's own municipality never clears.
    types = typology.set_index("cvegeo")["tipo_code"]
    assert types["19003"] == "D"
    close = near(localities, 26.06414, -99.19673, 5)
    assert (close["cvegeo"].str[:5].map(types) == "C").any()
    r = tg.consultation_required(typology, close, 5)
    assert r.requirement == "identification_required"
    assert "19003" not in r.identification_municipalities["cvegeo"].tolist()


def test_type_d_alone_is_not_required_unless_a_locality_has_speakers(typology, localities):
    # Candela (050050001), type D (0 people in indigenous households), nothing else in 5 km.
    close = near(localities, 26.84028, -100.66389, 5)
    assert close["cvegeo"].tolist() == ["050050001"]
    assert tg.consultation_required(typology, close, 5).requirement == "not_required"
    # Census speakers of an indigenous language in the locality itself: identify.
    r = tg.consultation_required(typology, close, 5,
                                 indigenous_population_by_locality={"050050001": 3})
    assert r.requirement == "identification_required"
    # A known indigenous or Afro-Mexican community within the distance: required.
    r = tg.consultation_required(typology, close, 5, known_indigenous_localities=["050050001"])
    assert r.requirement == "required" and r.required
    with pytest.raises(ValueError, match="indigenous_population_by_locality"):
        tg.consultation_required(typology, close, 5,
                                 indigenous_population_by_locality={"050050001": -1})


def test_type_a_is_required(typology, localities):
    r = tg.consultation_required(typology, near(localities, 21.26274, -98.79152, 10))
    assert r.requirement == "required" and "24037" in r.municipalities["cvegeo"].tolist()


def test_corridor_typology_counts(typology):
    # The figure: 329 of the 390 corridor municipalities are type C; all have
    # indigenous population, so none is cleared on the typology.
    assert len(typology) == 390
    c = typology.loc[typology["tipo_code"] == "C"]
    assert len(c) == 329 and (c["pob_indigena_hogares"].astype(float) > 0).all()
    d = typology.loc[typology["tipo_code"] == "D"]
    assert (d["pob_indigena_hogares"].astype(float) == 0).all()


def test_requirement_for_municipality():
    assert tg.requirement_for_municipality("A", 4483) == "required"
    assert tg.requirement_for_municipality("C", 1) == "identification_required"
    assert tg.requirement_for_municipality("D", 0) == "identification_required"  # no site
    with pytest.raises(ValueError, match="tipo_code"):
        tg.requirement_for_municipality("E", 0)
    with pytest.raises(ValueError, match="pob_indigena_hogares"):
        tg.requirement_for_municipality("C", float("nan"))


# --- screening cells ---------------------------------------------------------------------


def _points(rows):
    """Locality points [EPSG:6372] at (x_m, y_m) with their municipality's INPI type."""
    return gpd.GeoDataFrame(
        {"cvegeo": [r[0] for r in rows], "nom_loc": [r[1] for r in rows],
         "inpi_tipo_mun": [r[2] for r in rows]},
        geometry=[shapely.Point(r[3], r[4]) for r in rows], crs=PROJECTED_CRS)


def test_cells_show_the_three_values():
    params = ConsultationParameters(radius_km=5.0)
    pts = _points([("240370001", "A-town", "A", 0.0, 0.0),
                   ("010010001", "C-town", "C", 20_000.0, 0.0),
                   ("050050001", "D-town", "D", 40_000.0, 0.0)])
    trig = trigger_localities(pts, params)
    # cells: next to A (required); 4.9 km from C in a D municipality (identification);
    # 5.1 km from C, D municipality, D locality nearby (not required); inside a C
    # municipality far from everything (identification).
    x = np.array([1_000.0, 24_900.0, 25_100.0, 60_000.0])
    y = np.zeros(4)
    typ = np.array(["A", "D", "D", "C"], dtype=object)
    out = consultation_columns(x, y, typ, trig, params)
    assert out["consultation_requirement"].tolist() == [
        "required", "identification_required", "not_required", "identification_required"]
    assert out["consultation_required"].tolist() == [True, False, False, False]
    # the 4.9 / 5.1 km boundary, recomputed
    assert np.hypot(24_900 - 20_000, 0) / 1000 < 5 < np.hypot(25_100 - 20_000, 0) / 1000


def test_cell_distances_match_pyproj(localities):
    # A real cell centre 3 km east of Aguascalientes city: identification (type C).
    to6372 = Transformer.from_crs("EPSG:4326", PROJECTED_CRS, always_xy=True)
    pts = localities.loc[localities["cvegeo"].isin(["010010001"])]
    x0, y0 = to6372.transform(pts["lon"].to_numpy(float), pts["lat"].to_numpy(float))
    g = _points([("010010001", "Aguascalientes", "C", float(x0[0]), float(y0[0]))])
    out = consultation_columns([x0[0] + 3_000.0], [y0[0]], ["D"], trigger_localities(g),
                               ConsultationParameters(radius_km=5.0))
    assert out["consultation_requirement"].tolist() == ["identification_required"]
    assert isinstance(out, pd.DataFrame)
