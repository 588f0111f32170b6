"""The process cache of trigger answers (fondo.consultation.communities.run_trigger): the same
site, distance and known localities over the same verified datasets answer from the cache and
equal the rule's own answer; other inputs compute afresh; a dataset changed on disk is refused,
as the loaders refuse it, never answered from the cache."""

from __future__ import annotations

import shutil

import pytest

from consultation import trigger as tg
from consultation_support import make_project
from fondo.consultation import communities
from fondo.data.manifest import DatasetError
from fondo.db import session_scope
from fondo.fund.service import Project

#: Two sites of the demo's corridors: Tamazunchale (Huasteca, SLP: nahua localities around,
#: INPI type A municipalities) and General Cepeda (Coahuila). [degrees]
HUASTECA = (21.265, -98.79)
CEPEDA = (25.37, -101.47)


def _trigger(settings, project_id, known=()):
    with session_scope(settings) as session:
        project = session.get(Project, project_id)
        return communities.run_trigger(settings, project, tg.SCREENING_DISTANCE_KM, list(known))[0]


def _fresh(settings, lat_lon, known=()):
    typology, localities = communities.load_datasets(settings)
    near = tg.localities_within_km(localities, lat_lon[0], lat_lon[1], tg.SCREENING_DISTANCE_KM)
    return tg.consultation_required(typology, near, max_distance_km=tg.SCREENING_DISTANCE_KM,
                                    known_indigenous_localities=list(known))


def test_same_site_answers_from_the_cache_and_equals_the_rule(settings):
    a = make_project(settings, HUASTECA, name="Huasteca")
    b = make_project(settings, CEPEDA, name="Cepeda")
    first = _trigger(settings, a)
    assert _trigger(settings, a) is first  # cached
    fresh = _fresh(settings, HUASTECA)
    assert first.requirement == fresh.requirement
    assert first.localities.equals(fresh.localities)
    other = _trigger(settings, b)
    assert other is not first
    assert other.requirement == _fresh(settings, CEPEDA).requirement


def test_known_localities_compute_afresh(settings):
    a = make_project(settings, HUASTECA, name="Huasteca")
    first = _trigger(settings, a)
    known = [first.localities["cvegeo"].iloc[0]] if len(first.localities) else ["240010001"]
    assert _trigger(settings, a, known) is not first
    assert _trigger(settings, a) is first


def test_a_changed_dataset_is_refused_not_answered_from_the_cache(settings, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(settings["DATA_DIR"], data)
    local = dict(settings, DATA_DIR=str(data))
    a = make_project(local, HUASTECA, name="Huasteca")
    first = _trigger(local, a)
    assert _trigger(local, a) is first
    with open(data / "geo" / "localidades_inegi_puntos.csv", "ab") as f:
        f.write(b"\n")  # one byte more: the manifest's checksum no longer holds
    with pytest.raises(DatasetError, match="localidades_inegi_puntos"):
        _trigger(local, a)
