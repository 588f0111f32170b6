"""Finance engine speed: one 30-year case, and 10,000 Monte Carlo draws.

Bars (issue 4): one 30-year case with sculpting, tax and IRR <= 1 ms; 10,000 draws (each
with its own sculpting, tax and IRR) <= 100 ms vectorized, reported as a ratio against a
Python loop over draws measured here on a sample.
"""

from __future__ import annotations

import os
import time

import numpy as np

from finance.case import run_case
from finance.cashflow import simulate
from finance import election
from finance.election import best_depreciation_rate
from finance.inputs import CaseInputs
from finance.montecarlo import MonteCarloSpec, _evaluate, draw_drivers, python_loop_reference, run_montecarlo
from finance.returns import irr

#: Bar: one case. [ms]
BAR_CASE_MS = 1.0
#: Bar: 10,000 draws. [ms]
BAR_MC_MS = 100.0
N_DRAWS = 10_000
#: Draws timed in the Python-loop reference (extrapolated to N_DRAWS).
LOOP_SAMPLE = 100
#: Monte Carlo runs timed; the best is reported (the machine is shared: the best run is
#: the one least disturbed by other processes).
MC_REPEAT = 7
#: Timing windows of the one-case rows (20 calls each); the best is reported. A window is
#: ~10 ms, so on the shared 2-CPU machine 7 windows were often all disturbed.
CASE_REPEAT = 30

#: 30-year case: USD senior debt sculpted to 1.30x (DSCR-bound), one equity holder.
SIMPLE_30Y = {
    "capacity_mw": 100, "energy_p50_mwh": 250_000, "energy_p90_mwh": 230_000, "degradation": 0.005,
    "life_years": 30, "capex_usd": 90e6, "opex_usd_per_kw_year": 12, "opex_escalation": 0.02,
    "ppa_price_usd_per_mwh": 45, "ppa_escalation": 0.01, "ppa_term_years": 20,
    "merchant_price_usd_per_mwh": 40, "discount_rate": 0.08,
    "tranches": [
        {"name": "Senior", "kind": "senior_debt", "rate": 0.07, "tenor_years": 18, "target_dscr": 1.30,
         "max_gearing": 0.8, "fee": 0.01},
        {"name": "Sponsor", "kind": "equity", "share": 1.0},
    ],
}

#: The blended stack: senior + concessional (CAD) + guarantee (MXN) + equity + first loss.
BLENDED_30Y = dict(
    SIMPLE_30Y,
    fx={"MXN": {"spot_per_usd": 17.0, "mode": "parity", "interest_rate": 0.09, "usd_interest_rate": 0.045,
                "volatility": 0.10},
        "CAD": {"spot_per_usd": 1.38, "mode": "flat", "volatility": 0.05}},
    tranches=[
        {"name": "Senior", "kind": "senior_debt", "rate": 0.07, "tenor_years": 18, "target_dscr": 1.30,
         "max_gearing": 0.75, "fee": 0.01},
        {"name": "Concessional", "kind": "concessional_debt", "currency": "CAD", "rate": 0.02,
         "tenor_years": 20, "grace_years": 3, "share": 0.10},
        {"name": "Guarantee", "kind": "guarantee", "currency": "MXN", "covers": "Senior", "coverage": 0.5,
         "fee": 0.005},
        {"name": "Pension equity", "kind": "equity", "currency": "CAD", "share": 0.7},
        {"name": "First loss", "kind": "first_loss_equity", "currency": "USD", "share": 0.3},
    ],
)
SPEC = MonteCarloSpec(n_draws=N_DRAWS, price_sigma=0.15, capex_sigma=0.08, opex_sigma=0.10, chunk=N_DRAWS)


def _best_ms(fn, repeat=7, number=1):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best * 1e3


def _row(name, value, unit, reference, reference_value, bar, passed):
    return {
        "name": name,
        "value": float(value),
        "unit": unit,
        "reference": reference,
        "reference_value": float(reference_value),
        "ratio": float(value / reference_value) if reference_value else float("nan"),
        "bar": bar,
        "passed": bool(passed),
    }


def run() -> list[dict]:
    rows = []
    for label, spec in (("simple", SIMPLE_30Y), ("blended", BLENDED_30Y)):
        case = CaseInputs.from_dict(spec)
        run_case(case)  # JIT warm-up (numba kernels are cached on disk after the first run)

        def core():
            sim = simulate(case)
            irr(np.stack([sim.distributions_usd[0], sim.project_fcf_after_tax_usd[0]]))

        core_ms = _best_ms(core, repeat=CASE_REPEAT, number=20)
        full_ms = _best_ms(lambda: run_case(case), repeat=CASE_REPEAT, number=20)
        rows.append(_row(f"finance.case_30y_{label}.sculpt_tax_irr", core_ms, "ms", "bar", BAR_CASE_MS,
                         f"<= {BAR_CASE_MS} ms", core_ms <= BAR_CASE_MS))
        rows.append(_row(f"finance.case_30y_{label}.run_case_full", full_ms, "ms", "bar", BAR_CASE_MS,
                         f"<= {BAR_CASE_MS} ms (run_case: every metric, every tranche's IRR, NPV and amounts "
                         "computed; only the formatting of the cashflows rows is deferred to to_dict())", full_ms <= BAR_CASE_MS))

    for label, spec in (("simple", SIMPLE_30Y), ("blended", BLENDED_30Y)):
        case = CaseInputs.from_dict(spec)
        run_montecarlo(case, MonteCarloSpec(n_draws=16, seed=1))  # warm-up
        mc_ms = _best_ms(lambda: run_montecarlo(case, SPEC), repeat=MC_REPEAT)
        sample = draw_drivers(case, SPEC, LOOP_SAMPLE, np.random.default_rng(2))
        loop_ms = _best_ms(lambda: python_loop_reference(case, sample), repeat=1) * N_DRAWS / LOOP_SAMPLE
        rows.append(_row(f"finance.montecarlo_{N_DRAWS}_{label}", mc_ms, "ms", "bar", BAR_MC_MS,
                         f"<= {BAR_MC_MS} ms", mc_ms <= BAR_MC_MS))
        rows.append(_row(f"finance.montecarlo_{N_DRAWS}_{label}.vs_python_loop", mc_ms, "ms",
                         f"python loop over draws ({LOOP_SAMPLE} timed, x{N_DRAWS // LOOP_SAMPLE})",
                         loop_ms, "ratio < 1 (faster than the loop)", mc_ms < loop_ms))
        _evaluate  # noqa: B018 (same evaluation as the loop: see tests)

    # issue 12: the depreciation election runs one case per trial rate; its cost is the
    # cases' (the search itself should add little): ratio against trials x one run_case
    case = CaseInputs.from_dict(BLENDED_30Y)
    trials = [0]

    def counted(c):
        trials[0] += 1
        return run_case(c)

    election.run_case = counted  # count the cases one election runs
    best_depreciation_rate(case)
    election.run_case = run_case
    trials = trials[0]
    election_ms = _best_ms(lambda: best_depreciation_rate(case), repeat=7)
    one_ms = _best_ms(lambda: run_case(case), repeat=CASE_REPEAT, number=20)
    rows.append(_row("finance.depreciation_election_30y_blended", election_ms, "ms",
                     f"{trials} x run_case (the trials it runs)", trials * one_ms,
                     "ratio <= 1.5 (the search adds at most half its cases' cost)",
                     election_ms <= 1.5 * trials * one_ms))
    return rows


if __name__ == "__main__":
    load_before = os.getloadavg()
    rows = run()
    load_after = os.getloadavg()
    print(f"# best-of-N wall times; load average (1, 5, 15 min) before {load_before[0]:.2f} "
          f"{load_before[1]:.2f} {load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} "
          f"{load_after[2]:.2f} on {os.cpu_count()} CPUs")
    for r in rows:
        print(
            f"{r['name']}: {r['value']:.3f} {r['unit']} | {r['reference']} {r['reference_value']:.3f}"
            f" | ratio {r['ratio']:.3f} | bar {r['bar']} | {'PASS' if r['passed'] else 'FAIL'}"
        )
