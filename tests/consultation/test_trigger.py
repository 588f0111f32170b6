"""Trigger rule on the bundled INPI typology and INEGI localities (real data)."""

import numpy as np
import pandas as pd
import pytest

from consultation.trigger import (
    CommunityChange, apply_community_changes, consultation_required, localities_within_km,
)


def site_of(localities, name, municipality):
    row = localities.loc[(localities["nom_loc"] == name) & (localities["nom_mun"] == municipality)]
    assert len(row) == 1
    return float(row["lat"].iloc[0]), float(row["lon"].iloc[0])


def test_mezquitic_type_a_requires(typology, localities):
    # SOURCES-geo.md: Mezquitic (Jalisco, 14061) is INPI type A (80.71 % indigenous).
    lat, lon = site_of(localities, "Mezquitic", "Mezquitic")
    near = localities_within_km(localities, lat, lon, 10.0)
    assert near["dist_km"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    res = consultation_required(typology, near)
    assert res.required and not res.review_recommended
    assert "14061" in res.municipalities["cvegeo"].tolist()
    row = res.municipalities.set_index("cvegeo").loc["14061"]
    assert row["tipo_code"] == "A" and row["pct_indigena_hogares"] == pytest.approx(80.71)
    assert "140610001" in res.localities["cvegeo"].tolist()
    assert (res.localities["dist_km"] <= 10.0).all()
    assert set(res.localities["reason"]) == {"municipio INPI tipo A"}


def test_aguascalientes_city_type_c_is_review_only(typology, localities):
    # Aguascalientes (01001) is type C with 4,318 people in indigenous households.
    lat, lon = site_of(localities, "Aguascalientes", "Aguascalientes")
    near = localities_within_km(localities, lat, lon, 5.0)
    res = consultation_required(typology, near, max_distance_km=5.0)
    assert not res.required and res.review_recommended
    assert res.localities.empty and "01001" in res.review_municipalities["cvegeo"].tolist()


def test_known_community_forces_requirement(typology, localities):
    lat, lon = site_of(localities, "Aguascalientes", "Aguascalientes")
    near = localities_within_km(localities, lat, lon, 10.0)
    # Arellano (010010106) is ~9 km away; listing it as a known community is a test input,
    # not a claim about Arellano.
    res = consultation_required(typology, near, max_distance_km=10.0,
                                known_indigenous_localities=["010010106"])
    assert res.required
    assert res.localities["cvegeo"].tolist() == ["010010106"]
    assert res.localities["reason"].iloc[0] == "comunidad indígena identificada"
    assert res.municipalities["cvegeo"].tolist() == ["01001"]


def test_distance_in_projected_crs(localities):
    # Two localities ~1.0 km apart on the same meridian: 0.009° of latitude ≈ 1.0 km.
    pts = pd.DataFrame({"lat": [21.0, 21.009], "lon": [-102.0, -102.0]})
    out = localities_within_km(pts, 21.0, -102.0, 5.0)
    # 0.009° × 110.7 km/° (meridian arc at 21° N) ≈ 0.996 km; LCC scale error < 1 %.
    np.testing.assert_allclose(out["dist_km"].to_numpy(), [0.0, 0.996], rtol=0.01, atol=1e-9)


def test_trigger_refusals(typology, localities):
    near = localities_within_km(localities, 21.87982, -102.29605, 2.0)
    with pytest.raises(ValueError, match="lacks column 'tipo_code'"):
        consultation_required(typology.drop(columns="tipo_code"), near)
    with pytest.raises(ValueError, match="9-digit"):
        consultation_required(typology, near.assign(cvegeo=near["cvegeo"].str.lstrip("0")))
    with pytest.raises(ValueError, match="INPI types A-D"):
        consultation_required(typology, near, trigger_types=("Z",))
    with pytest.raises(ValueError, match="not in the typology"):
        consultation_required(typology.iloc[1:], near)
    with pytest.raises(ValueError, match="> 0"):
        localities_within_km(localities, 21.0, -102.0, 0.0)


def test_officer_changes():
    changes = [CommunityChange("add", "010010106", "Arellano", "Identificada por INPI (ejemplo de prueba)", "ana"),
               CommunityChange("remove", "140610001", "Mezquitic", "Fuera del área", "ana")]
    assert apply_community_changes(["140610001"], changes) == ("010010106",)
    with pytest.raises(ValueError, match="reason is required"):
        apply_community_changes([], [CommunityChange("add", "1", "x", " ", "ana")])
    with pytest.raises(ValueError, match="not listed"):
        apply_community_changes([], [CommunityChange("remove", "1", "x", "r", "ana")])
