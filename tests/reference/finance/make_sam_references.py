"""Write the NREL SAM references of the LCOE tests (``sam_lcoefcr.json``).

Run by hand from the repository root, with PySAM (``nrel-pysam``) installed::

    .venv/bin/python tests/reference/finance/make_sam_references.py

It runs PySAM ``Lcoefcr`` (LCOE by the fixed-charge-rate method) and ``LcoefcrDesign``
(the fixed charge rate from financial parameters) on the cases below and stores, for each,
the inputs in Fondo's names and units, the exact values given to SAM (SAM's names and
units) and SAM's outputs. ``tests/finance/test_lcoe.py`` compares Fondo with the stored
outputs, so it runs without PySAM; its freshness test re-runs every case through this
module when PySAM is importable and fails if the stored outputs are stale.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE_FILE = HERE / "sam_lcoefcr.json"
KWH_PER_MWH = 1000.0

#: Illustrative plants (not data): fixed charge rate [1/yr], capital [USD], fixed O&M
#: [USD/yr], variable O&M [USD/MWh], annual energy [MWh].
LCOE_CASES = [
    (0.0708, 90e6, 1.2e6, 0.0, 250_000.0),
    (0.095, 55e6, 750e3, 2.5, 120_000.0),
    (0.12, 1.0e6, 20e3, 4.0, 1_800.0),
]

#: Illustrative financing (not data): inflation, nominal equity return, debt fraction,
#: nominal interest, tax rate, life [yr], depreciation schedule [% per year],
#: construction interest, construction schedule [% per year].
FCR_CASES = [
    (0.025, 0.10, 0.5, 0.05, 0.25, 30, [20, 32, 19.2, 11.52, 11.52, 5.76], 0.04, [100]),
    (0.03, 0.12, 0.7, 0.07, 0.30, 25, [100], 0.07, [60, 40]),
    (0.02, 0.09, 0.0, 0.06, 0.30, 20, [5] * 20, 0.0, [100]),
]


def pysam_version() -> str:
    return importlib.metadata.version("nrel-pysam")


def lcoe_cases() -> list[dict]:
    """Inputs of the ``Lcoefcr`` cases, in Fondo's names and units."""
    return [{"fixed_charge_rate": fcr, "capital_cost_usd": cc,
             "fixed_operating_cost_usd_per_year": foc,
             "variable_operating_cost_usd_per_mwh": voc, "annual_energy_mwh": aep}
            for fcr, cc, foc, voc, aep in LCOE_CASES]


def fcr_cases() -> list[dict]:
    """Inputs of the ``LcoefcrDesign`` cases, in Fondo's names and units (fractions)."""
    return [{"inflation_rate": i, "equity_return": roe, "debt_fraction": df,
             "debt_interest_rate": k, "tax_rate": tr, "life_years": n,
             "depreciation_schedule_percent": [float(x) for x in dep],
             "construction_interest_rate": kc,
             "construction_schedule_percent": [float(x) for x in con]}
            for i, roe, df, k, tr, n, dep, kc, con in FCR_CASES]


def run_sam_lcoe(case: dict) -> tuple[dict, dict]:
    """SAM ``Lcoefcr`` on one case: (SAM inputs, outputs). SAM works in kWh."""
    from PySAM import Lcoefcr

    m = Lcoefcr.new()
    s = m.SimpleLCOE
    s.fixed_charge_rate = case["fixed_charge_rate"]
    s.capital_cost = case["capital_cost_usd"]
    s.fixed_operating_cost = case["fixed_operating_cost_usd_per_year"]
    s.variable_operating_cost = case["variable_operating_cost_usd_per_mwh"] / KWH_PER_MWH
    s.annual_energy = case["annual_energy_mwh"] * KWH_PER_MWH
    m.execute(0)
    return s.export(), {"lcoe_fcr_usd_per_kwh": float(m.Outputs.lcoe_fcr)}


def run_sam_fcr(case: dict) -> tuple[dict, dict]:
    """SAM ``LcoefcrDesign`` (design only) on one case: (SAM inputs, outputs)."""
    from PySAM import LcoefcrDesign

    m = LcoefcrDesign.new()
    m.SystemControl.sim_type = 2  # design only
    s = m.SimpleLCOE
    s.ui_fcr_input_option = 1  # compute the FCR from the financial parameters
    s.c_inflation = case["inflation_rate"] * 100
    s.c_equity_return = case["equity_return"] * 100
    s.c_debt_percent = case["debt_fraction"] * 100
    s.c_nominal_interest_rate = case["debt_interest_rate"] * 100
    s.c_tax_rate = case["tax_rate"] * 100
    s.c_lifetime = case["life_years"]
    s.c_depreciation_schedule = case["depreciation_schedule_percent"]
    s.c_construction_interest = case["construction_interest_rate"] * 100
    s.c_construction_cost = case["construction_schedule_percent"]
    m.execute(0)
    sam_inputs = {"SystemControl": m.SystemControl.export(),
                  "SimpleLCOE": {k: (list(v) if isinstance(v, tuple) else v)
                                 for k, v in s.export().items()}}
    out = m.Outputs
    return sam_inputs, {"fixed_charge_rate_calc": float(out.fixed_charge_rate_calc),
                        "crf": float(out.crf), "pfin": float(out.pfin),
                        "cfin": float(out.cfin), "wacc": float(out.wacc)}


def build_reference() -> dict:
    lcoe = []
    for case in lcoe_cases():
        sam_inputs, outputs = run_sam_lcoe(case)
        lcoe.append({"inputs": case, "sam_inputs": sam_inputs, "sam": outputs})
    fcr = []
    for case in fcr_cases():
        sam_inputs, outputs = run_sam_fcr(case)
        fcr.append({"inputs": case, "sam_inputs": sam_inputs, "sam": outputs})
    return {
        "source": f"NREL SAM via PySAM {pysam_version()} (nrel-pysam), compute modules "
                  "Lcoefcr and LcoefcrDesign (PySAM .new(), no defaults)",
        "licence": "BSD-3-Clause (PySAM and SAM's SSC)",
        "pysam_version": pysam_version(),
        "made_by": "tests/reference/finance/make_sam_references.py",
        "notes": "Inputs are illustrative, not data. Lcoefcr: SAM takes energy in kWh and "
                 "variable cost in USD/kWh and returns USD/kWh. LcoefcrDesign: rates in "
                 "percent; outputs fixed_charge_rate_calc [1/yr], crf [1/yr], pfin and cfin "
                 "(financing and construction factors) [-], wacc (real) as fractions.",
        "lcoe_fcr": lcoe,
        "fixed_charge_rate": fcr,
    }


def main() -> None:
    body = build_reference()
    REFERENCE_FILE.write_text(json.dumps(body, indent=1, allow_nan=False) + "\n",
                              encoding="utf-8")
    print(f"{REFERENCE_FILE.name}: {len(body['lcoe_fcr'])} Lcoefcr and "
          f"{len(body['fixed_charge_rate'])} LcoefcrDesign cases, PySAM {body['pysam_version']}")


if __name__ == "__main__":
    main()
