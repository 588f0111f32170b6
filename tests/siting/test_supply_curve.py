"""Supply curve table and figure."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from siting.supply_curve import corridor_of_state, figure_png, supply_curve, supply_curve_figure

#: Tolerance of sums of exact floats. [-]
RTOL_SUM = 1e-12


def _frame():
    return pd.DataFrame({
        "cell_id": ["a", "b", "c", "d", "e"],
        "technology": "pv",
        "excluded": [False, False, True, False, False],
        "capacity_mw": [48.0, 24.0, 0.0, 48.0, 48.0],
        "lcoe_usd_per_mwh": [50.0, 40.0, 30.0, 45.0, np.nan],
        "energy_mwh_per_mw": [1800.0, 1900.0, 2000.0, 1850.0, 0.0],
        "state_cve_ent": ["11", "11", "11", "19", "11"],
    })


def test_supply_curve_by_hand():
    curve = supply_curve(_frame())
    bajio = curve[curve["corridor"] == "bajio"]
    # bajío: b (40 USD/MWh, 24 MW) then a (50, 48 MW); c excluded, e no LCOE
    assert bajio["cell_id"].tolist() == ["b", "a"]
    np.testing.assert_allclose(bajio["cumulative_capacity_mw"], [24.0, 72.0], rtol=RTOL_SUM)
    # energy: 24 MW * 1900 MWh/MW = 45.6 GWh; + 48 * 1800 = 86.4 GWh -> 132.0
    np.testing.assert_allclose(bajio["cumulative_energy_gwh_per_year"], [45.6, 132.0], rtol=RTOL_SUM)
    assert curve[curve["corridor"] == "noreste"]["cell_id"].tolist() == ["d"]
    whole = supply_curve(_frame(), by_corridor=False)
    assert whole["cell_id"].tolist() == ["b", "d", "a"]
    assert (np.diff(whole["lcoe_usd_per_mwh"]) >= 0).all()


def test_corridor_of_state():
    assert corridor_of_state(["01", "05", "32", None]).tolist() == ["bajio", "noreste", None, None]


def test_figure_and_png():
    fig = supply_curve_figure(supply_curve(_frame()))
    assert isinstance(fig, Figure)
    assert len(fig.axes[0].lines) == 2
    png = figure_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_columns():
    with pytest.raises(ValueError, match="lacks column"):
        supply_curve(_frame().drop(columns="capacity_mw"))
