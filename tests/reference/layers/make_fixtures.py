"""Write the small layer fixtures of ``tests/reference/layers/`` from the bundled data.

Run from the repository root::

    .venv/bin/python tests/reference/layers/make_fixtures.py

Every ``ags_*`` fixture is a subset of a bundled real layer: the features are copied
value for value (parsed with :mod:`json` and written back, so no coordinate is changed,
rounded or reprojected). Only the selection of features is ours. The ``synthetic_*``
fixtures are invented shapes for bad-input tests, labelled synthetic in their name and
in every feature's properties; they are not real places.

``tests/fondo/test_layers_import.py`` re-runs :func:`build_fixtures` into a temporary
directory and checks the output is byte-identical to the committed files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd

#: INEGI state key of Aguascalientes, the state the real subsets are cut to.
AGUASCALIENTES_CVE_ENT = "01"

#: GSHHG lake ids of the two binational Rio Bravo reservoirs in the bundled water bodies:
#: Falcón (2, Tamaulipas) and La Amistad (3, Coahuila), US parts included (SOURCES-geo.md).
BORDER_RESERVOIR_LAKE_IDS = (2, 3)

#: Label carried by every synthetic feature.
SYNTHETIC_NOTE = "SYNTHETIC test geometry for bad-input tests; not a real feature"

#: A self-intersecting "bow-tie" ring near Aguascalientes city (invalid, repairable). [°]
SYNTHETIC_BOWTIE_RING = [[-102.30, 21.85], [-102.28, 21.87], [-102.28, 21.85], [-102.30, 21.87], [-102.30, 21.85]]

#: A ring whose vertices are collinear: make_valid leaves a line, no polygon. [°]
SYNTHETIC_DEGENERATE_RING = [[-102.30, 21.85], [-102.29, 21.85], [-102.28, 21.85], [-102.30, 21.85]]


def _features(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def _write(path: Path, name: str, features: list[dict], source: str) -> Path:
    collection = {
        "type": "FeatureCollection",
        "name": name,
        "fondo_fixture_source": source,
        "features": features,
    }
    path.write_text(json.dumps(collection, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def build_fixtures(data_dir: Path, out_dir: Path) -> list[Path]:
    """Write every fixture into ``out_dir`` and return their paths."""
    geo = data_dir / "geo"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []

    municipalities = [
        feature
        for feature in _features(geo / "corridor_municipios_inegi.geojson")
        if feature["properties"]["cve_ent"] == AGUASCALIENTES_CVE_ENT
    ]
    written.append(
        _write(out_dir / "ags_municipalities_inegi.geojson", "ags_municipalities_inegi", municipalities,
               "data/geo/corridor_municipios_inegi.geojson, features with cve_ent == '01'")
    )

    protected = [
        feature
        for feature in _features(geo / "anp_estatales_conabio2009.geojson")
        if feature["properties"]["estado"] == "Aguascalientes"
    ]
    written.append(
        _write(out_dir / "ags_protected_areas_conabio2009.geojson", "ags_protected_areas_conabio2009", protected,
               "data/geo/anp_estatales_conabio2009.geojson, features with estado == 'Aguascalientes'")
    )

    # Grid features chosen spatially against the INEGI Aguascalientes polygon.
    states = gpd.read_file(geo / "corridor_states_inegi.geojson", engine="pyogrio")
    aguascalientes = states.loc[states["cve_ent"] == AGUASCALIENTES_CVE_ENT, "geometry"].union_all()
    for stem, name, predicate in (
        ("grid_nodes_osm_mexico", "ags_grid_nodes_osm", "within"),
        ("grid_lines_osm_mexico", "ags_grid_lines_osm", "intersects"),
    ):
        path = geo / f"{stem}.geojson"
        frame = gpd.read_file(path, engine="pyogrio")
        selected = getattr(frame.geometry, predicate)(aguascalientes).to_numpy()
        features = [feature for feature, keep in zip(_features(path), selected, strict=True) if keep]
        written.append(
            _write(out_dir / f"{name}.geojson", name, features,
                   f"data/geo/{stem}.geojson, features {predicate} the INEGI Aguascalientes state polygon")
        )

    reservoirs = [
        feature
        for feature in _features(geo / "water_bodies_gshhg.geojson")
        if feature["properties"]["lake_id"] in BORDER_RESERVOIR_LAKE_IDS
    ]
    written.append(
        _write(out_dir / "border_reservoirs_gshhg.geojson", "border_reservoirs_gshhg", reservoirs,
               "data/geo/water_bodies_gshhg.geojson, features with lake_id in (2, 3)")
    )

    for name, ring, label in (
        ("synthetic_invalid_bowtie", SYNTHETIC_BOWTIE_RING, "self-intersecting bow-tie polygon"),
        ("synthetic_degenerate_polygon", SYNTHETIC_DEGENERATE_RING, "polygon with collinear vertices"),
    ):
        feature = {
            "type": "Feature",
            "properties": {"synthetic": True, "note": f"{SYNTHETIC_NOTE}: {label}"},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        written.append(_write(out_dir / f"{name}.geojson", name, [feature], "synthetic, see make_fixtures.py"))
    return written


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[3]
    for written_path in build_fixtures(root / "data", Path(__file__).resolve().parent):
        sys.stdout.write(f"{written_path.relative_to(root)}  {written_path.stat().st_size} bytes\n")
