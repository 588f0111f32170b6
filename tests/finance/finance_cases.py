"""Shared finance test cases (synthetic but plausible project parameters, not data)."""

#: A 100 MW Bajío solar case with a five-tranche stack (illustrative inputs).
BASE_CASE = {
    "capacity_mw": 100,
    "energy_p50_mwh": 250_000,
    "energy_p90_mwh": 230_000,
    "degradation": 0.005,
    "life_years": 30,
    "construction_years": 1,
    "capex_usd": 90e6,
    "capex_components_usd": {"generation": 80e6, "grid_connection": 10e6},
    "opex_usd_per_kw_year": 12,
    "opex_escalation": 0.02,
    "ppa_price_usd_per_mwh": 45,
    "ppa_escalation": 0.01,
    "ppa_term_years": 15,
    "merchant_price_usd_per_mwh": 40,
    "tax_rate": 0.30,
    "ptu_rate": 0.10,
    "depreciation": "mx_renewable_100",
    "discount_rate": 0.08,
    "fx": {
        "MXN": {"spot_per_usd": 17.0, "mode": "parity", "interest_rate": 0.09, "usd_interest_rate": 0.045,
                "volatility": 0.10},
        "CAD": {"spot_per_usd": 1.38, "mode": "flat", "volatility": 0.05},
    },
    "tranches": [
        {"name": "Senior", "kind": "senior_debt", "currency": "USD", "rate": 0.07, "tenor_years": 18,
         "target_dscr": 1.30, "max_gearing": 0.75, "fee": 0.01},
        {"name": "Concessional", "kind": "concessional_debt", "currency": "CAD", "rate": 0.02,
         "tenor_years": 20, "grace_years": 3, "share": 0.10},
        {"name": "Guarantee", "kind": "guarantee", "currency": "MXN", "covers": "Senior", "coverage": 0.5,
         "fee": 0.005},
        {"name": "Pension equity", "kind": "equity", "currency": "CAD", "share": 0.7},
        {"name": "First loss", "kind": "first_loss_equity", "currency": "USD", "share": 0.3},
    ],
}

#: Simple stack: USD senior debt sized by DSCR (gearing not binding) and one equity.
SIMPLE_CASE = {
    "capacity_mw": 50,
    "energy_p50_mwh": 120_000,
    "life_years": 25,
    "capex_usd": 55e6,
    "opex_usd_per_kw_year": 15,
    "opex_escalation": 0.02,
    "ppa_price_usd_per_mwh": 50,
    "ppa_escalation": 0.015,
    "discount_rate": 0.08,
    "tranches": [
        {"name": "Senior", "kind": "senior_debt", "rate": 0.065, "tenor_years": 15, "target_dscr": 1.35,
         "max_gearing": 0.9, "fee": 0.01},
        {"name": "Sponsor", "kind": "equity", "share": 1.0},
    ],
}

#: The blended MXN case: USD senior debt, a development-bank concessional tranche in pesos
#: (peso rate, a peso depreciating by interest parity), equity in USD and MXN.
BLENDED_MXN_CASE = {
    **SIMPLE_CASE,
    "fx": {"MXN": {"spot_per_usd": 17.0, "mode": "parity", "interest_rate": 0.09, "usd_interest_rate": 0.045,
                   "volatility": 0.10}},
    "tranches": [
        {"name": "Senior", "kind": "senior_debt", "rate": 0.065, "tenor_years": 15, "target_dscr": 1.35,
         "max_gearing": 0.6},
        {"name": "Nafin", "kind": "concessional_debt", "currency": "MXN", "rate": 0.02, "tenor_years": 12,
         "grace_years": 2, "share": 0.15},
        {"name": "Sponsor", "kind": "equity", "share": 0.6},
        {"name": "Fund", "kind": "equity", "currency": "MXN", "share": 0.4},
    ],
}
