"""PV model: hand-worked values, laws and the Perez NaN trap."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pvlib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siting import pv
from siting.losses import PVWATTS_V8_DEFAULT_LOSSES, LossBreakdown, loss_tree

HAND_RTOL = 1e-9
#: Tolerance of hand arithmetic rounded to 4-5 digits in the comments.
ROUNDED_RTOL = 1e-4
AGUASCALIENTES = "765710"


def _simulate(frame, station, **kw):
    args = dict(latitude=station.latitude, longitude=station.longitude,
                elevation_m=station.elevation_m, capacity_dc_kw=1000.0, dc_ac_ratio=1.2,
                tilt_deg=20.0, azimuth_deg=180.0, tracking=False, gcr=0.3, system_losses=0.14,
                albedo=frame["albedo"])
    args.update(kw)
    return pv.simulate_pv(frame.index, frame["dni"], frame["dhi"], frame["temp_air"],
                          frame["wind_speed"], frame["atmospheric_pressure"], **args)


def test_optimal_tilt_hand_value():
    # Jacobson & Jadhav 2018: 1.3793 + 22·(1.2011 + 22·(-0.014404 + 22·0.000080509))
    # = 1.3793 + 22·(1.2011 - 0.2779334) = 1.3793 + 20.3094652 = 21.6887652
    np.testing.assert_allclose(pv.optimal_tilt_deg(22.0), 21.6887652, rtol=ROUNDED_RTOL)
    np.testing.assert_allclose(pv.optimal_tilt_deg(np.array([22.0, -22.0])),
                               [21.6887652, 21.6887652], rtol=ROUNDED_RTOL)


def test_pvlib_perez_returns_nan_with_zero_diffuse():
    # The trap itself: sun up (zenith 30°), DNI 0, DHI 0 → ε = 0/0 → NaN.
    out = pvlib.irradiance.perez(20, 180, np.array([0.0]), np.array([0.0]),
                                 np.array([1400.0]), np.array([30.0]), np.array([180.0]),
                                 np.array([1.15]))
    assert np.isnan(np.asarray(out)[0])


def test_perez_sky_diffuse_zero_diffuse_is_zero_not_nan():
    sky = pv.perez_sky_diffuse(20, 180, np.array([0.0, 100.0]), np.array([0.0, 800.0]),
                               np.array([1400.0, 1400.0]), np.array([30.0, 30.0]),
                               np.array([180.0, 180.0]), np.array([1.15, 1.15]))
    assert sky[0] == 0.0 and sky[1] > 0.0


def test_zero_diffuse_hours_keep_their_energy(parsed):
    frame, station = parsed[AGUASCALIENTES]
    base = _simulate(frame, station)
    trap = frame.copy()
    midday = trap.index.hour.isin([11, 12, 13])
    trap.loc[midday, "dhi"] = 0.0
    dark = trap.index.hour == 9
    trap.loc[dark, ["dni", "dhi"]] = 0.0  # sun up, no light at all: pvlib's NaN case
    out = _simulate(trap, station)
    assert np.all(np.isfinite(out.ac_kw))
    # every clear midday hour still produces power; the year loses only the diffuse part
    sunny = midday & (trap["dni"].to_numpy() > 200)
    assert np.all(out.ac_kw[sunny] > 0)
    assert np.all(out.ac_kw[dark] == 0)
    # a NaN carried into the sum would have dropped the year (sum → NaN) or, with
    # nan-skipping sums, silently lost hours; the year keeps its clear-sky energy
    assert out.ac_kw.sum() > 0.75 * base.ac_kw.sum()


def test_inverter_nominal_point_and_clipping():
    # at ζ = 1: η = 0.96/0.9637·(-0.0162 - 0.0059 + 0.9858) = 0.96/0.9637·0.9637 = 0.96
    ac_rating = 100.0
    pdc0 = ac_rating / 0.96
    np.testing.assert_allclose(pv.inverter_ac_kw(pdc0, ac_rating, clip=False), 100.0,
                               rtol=HAND_RTOL)
    assert pv.inverter_ac_kw(500.0, ac_rating) == ac_rating
    assert pv.inverter_ac_kw(0.0, ac_rating) == 0.0


def test_inverter_is_pvlib_pvwatts_and_dobos_eq13():
    # Dobos 2014 (PVWatts v5 manual) eq. 13 at P_ac0 = 100 kW, η_nom = 0.96, P_dc = 50 kW:
    # P_dc0 = 100 / 0.96 = 104.16667 kW, ζ = 50 / 104.16667 = 0.48,
    # η = 0.96/0.9637 · (-0.0162·0.48 - 0.0059/0.48 + 0.9858)
    #   = 0.9961606 · (-0.007776 - 0.0122917 + 0.9858) = 0.9961606 · 0.9657323 = 0.9620245,
    # P_ac = 50 · 0.9620245 = 48.10123 kW
    np.testing.assert_allclose(pv.inverter_ac_kw(50.0, 100.0), 48.10123, rtol=ROUNDED_RTOL)
    # the same numbers as pvlib's PVWatts inverter, clipped or not, in every kind of input
    dc = np.linspace(-5.0, 150.0, 311)
    pdc0 = 100.0 / pv.INVERTER_EFFICIENCY_NOMINAL
    expected = pvlib.inverter.pvwatts(dc, pdc0, pv.INVERTER_EFFICIENCY_NOMINAL,
                                      pv.INVERTER_EFFICIENCY_REFERENCE)
    np.testing.assert_allclose(pv.inverter_ac_kw(dc, 100.0), expected, rtol=HAND_RTOL)
    unclipped = pv.inverter_ac_kw(dc, 100.0, clip=False)
    below = dc < pdc0 * 0.999
    np.testing.assert_allclose(unclipped[below], expected[below], rtol=HAND_RTOL)
    assert np.all(unclipped[~below] >= expected[~below]) and unclipped[-1] > 100.0
    series = pd.Series(dc, index=pd.date_range("2019-01-01", periods=dc.size, freq="h",
                                               tz="Etc/GMT+6"))
    out = pv.inverter_ac_kw(series, 100.0)
    assert isinstance(out, pd.Series) and out.index.equals(series.index)
    np.testing.assert_allclose(out.to_numpy(), expected, rtol=HAND_RTOL)
    assert isinstance(pv.inverter_ac_kw(50.0, 100.0), float)
    # a missing DC value stays missing (it is not silently an hour of zero output)
    assert np.isnan(pv.inverter_ac_kw(np.array([np.nan]), 100.0)[0])


def test_cover_transmittance_bounds():
    np.testing.assert_allclose(pv.cover_transmittance(0.0), 1.0, rtol=HAND_RTOL)
    assert pv.cover_transmittance(90.0) == 0.0


@settings(max_examples=25, deadline=None)
@given(st.floats(0, 89), st.floats(0.1, 10))
def test_cover_transmittance_decreases(aoi, step):
    assert pv.cover_transmittance(min(aoi + step, 90)) <= pv.cover_transmittance(aoi) + 1e-12


def test_beam_row_shade_fraction_hand_value():
    # β = 30°, sun due south at 20° elevation, gcr 0.5:
    # py = cos30 + sin30/tan20 = 0.866025 + 0.5/0.363970 = 2.239752
    # f = 1 - (1/0.5)/2.239752 = 0.107044
    f = pv.beam_row_shade_fraction(70.0, 180.0, 30.0, 180.0, 0.5)
    np.testing.assert_allclose(f, 0.107044, rtol=ROUNDED_RTOL)
    assert pv.beam_row_shade_fraction(30.0, 180.0, 30.0, 180.0, 0.3) == 0.0
    assert pv.beam_row_shade_fraction(95.0, 180.0, 30.0, 180.0, 0.3) == 0.0


@settings(max_examples=20, deadline=None)
@given(st.floats(1, 60), st.floats(0.1, 0.6), st.floats(0.01, 0.3))
def test_sky_view_factor_decreases_with_gcr(tilt, gcr, dg):
    f1 = pv.sky_diffuse_row_factor(tilt, gcr)
    f2 = pv.sky_diffuse_row_factor(tilt, gcr + dg)
    assert 0.0 < f2 <= f1 + 1e-12 <= 1.0 + 1e-12


def test_sky_view_factor_flat_is_one():
    assert pv.sky_diffuse_row_factor(0.0, 0.5) == 1.0


def test_pvwatts_default_losses_total():
    # 1 - 0.98·0.97·1·0.98·0.98·0.995·0.985·0.99·1·0.97 = 0.140757 (SAM shows 14.08 %)
    prod = 0.98 * 0.97 * 0.98 * 0.98 * 0.995 * 0.985 * 0.99 * 0.97
    np.testing.assert_allclose(LossBreakdown.pvwatts_default().total, 1 - prod, rtol=HAND_RTOL)
    np.testing.assert_allclose(1 - prod, 0.140757, rtol=ROUNDED_RTOL)
    assert set(PVWATTS_V8_DEFAULT_LOSSES) >= {"soiling", "shading", "mismatch", "wiring",
                                              "connections", "light_induced_degradation",
                                              "nameplate", "availability"}


@settings(max_examples=30, deadline=None)
@given(st.floats(0.0, 0.5))
def test_loss_breakdown_from_total_product(total):
    b = LossBreakdown.from_total(total)
    np.testing.assert_allclose(b.total, total, rtol=1e-9, atol=1e-12)
    assert set(b.items) == set(PVWATTS_V8_DEFAULT_LOSSES)


def test_loss_breakdown_bad_input():
    with pytest.raises(ValueError, match="soiling"):
        LossBreakdown({"soiling": 1.2})
    with pytest.raises(ValueError, match="system_losses"):
        LossBreakdown.from_total(1.0)


def test_loss_tree_product_law():
    tree = loss_tree(100.0, [("a", 90.0), ("b", 81.0), ("c", 72.9)])
    np.testing.assert_allclose([s.fraction for s in tree], [0.1, 0.1, 0.1], rtol=HAND_RTOL)
    np.testing.assert_allclose(np.prod([1 - s.fraction for s in tree]), 0.729, rtol=HAND_RTOL)
    assert sum(s.energy_kwh for s in tree) == pytest.approx(27.1)


def test_degradation_bifacial_and_clipping(parsed):
    frame, station = parsed[AGUASCALIENTES]
    base = _simulate(frame, station)
    aged = _simulate(frame, station, degradation_factor=(1 - 0.005) ** 2)
    # year 3 at 0.5 %/yr: (0.995)² = 0.990025 on DC
    np.testing.assert_allclose(aged.dc_net_kw.sum() / base.dc_net_kw.sum(), 0.990025,
                               rtol=HAND_RTOL)
    bif = _simulate(frame, station, bifacial_gain=0.05)
    assert bif.ac_kw.sum() > base.ac_kw.sum()
    tight = _simulate(frame, station, dc_ac_ratio=1.6)
    assert tight.ac_kw.max() <= 1000.0 / 1.6 + 1e-9
    assert tight.ac_kw.sum() < base.ac_kw.sum()


def test_tracker_beats_fixed_and_is_finite(parsed):
    frame, station = parsed[AGUASCALIENTES]
    fixed = _simulate(frame, station)
    track = _simulate(frame, station, tracking=True, tilt_deg=0.0, gcr=0.35)
    assert np.all(np.isfinite(track.ac_kw))
    assert track.ac_kw.sum() > fixed.ac_kw.sum()
    assert np.all(track.ac_kw[frame.index.hour < 4] == 0)
