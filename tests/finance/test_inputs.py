"""Bad inputs: FinanceInputError (a ValueError) naming the field."""

import copy

import pytest

from finance.inputs import CaseInputs, FinanceInputError


def _mutate(d, path, value):
    d = copy.deepcopy(d)
    target = d
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return d


@pytest.mark.parametrize(
    "path, value, field",
    [
        (("capex_usd",), -1.0, "capex_usd"),
        (("capacity_mw",), -5, "capacity_mw"),
        (("capacity_mw",), KeyError, "capacity_mw"),
        (("energy_p50_mwh",), "lots", "energy_p50_mwh"),
        (("energy_p90_mwh",), 300_000, "energy_p90_mwh"),
        (("life_years",), 25.5, "life_years"),
        (("tax_rate",), 30, "tax_rate"),
        (("discount_rate",), float("nan"), "discount_rate"),
        (("depreciation",), "macrs", "depreciation"),
        (("ppa_term_years",), 40, "ppa_term_years"),
        (("tranches", 3, "share"), 0.6, "tranches.share"),
        (("tranches", 0, "target_dscr"), 1.0, "tranches[0].target_dscr"),
        (("tranches", 0, "target_dscr"), 0.9, "tranches[0].target_dscr"),
        (("tranches", 0, "tenor_years"), 31, "tranches[0].tenor_years"),
        (("tranches", 1, "grace_years"), 20, "tranches[1].grace_years"),
        (("tranches", 0, "max_gearing"), 1.2, "tranches[0].max_gearing"),
        (("tranches", 2, "covers"), "Nobody", "tranches[2].covers"),
        (("tranches", 2, "covers"), "First loss", "tranches[2].covers"),
        (("tranches", 2, "coverage"), 0.0, "tranches[2].coverage"),
        (("tranches", 4, "kind"), "mezzanine", "tranches[4].kind"),
        (("tranches", 4, "currency"), "EUR", "tranches[4].currency"),
        (("tranches", 4, "name"), "Senior", "tranches[4].name"),
        (("fx",), {"CAD": {"spot_per_usd": 1.38}}, "fx.MXN"),
        (("fx", "MXN", "spot_per_usd"), -17, "fx.MXN.spot_per_usd"),
        (("capex_components_usd", "generation"), 1.0, "capex_components_usd"),
        (("tranches",), [], "tranches"),
    ],
)
def test_bad_input_names_the_field(base_case_dict, path, value, field):
    with pytest.raises(FinanceInputError) as info:
        CaseInputs.from_dict(_mutate(base_case_dict, path, value))
    assert info.value.field == field
    assert isinstance(info.value, ValueError)
    assert field in str(info.value)


def test_no_equity_tranche(simple_case_dict):
    d = copy.deepcopy(simple_case_dict)
    d["tranches"] = d["tranches"][:1]
    with pytest.raises(FinanceInputError, match="equity") as info:
        CaseInputs.from_dict(d)
    assert info.value.field == "tranches"


def test_p90_sizing_needs_p90(simple_case_dict):
    with pytest.raises(FinanceInputError) as info:
        CaseInputs.from_dict(dict(simple_case_dict, sizing_basis="p90"))
    assert info.value.field == "energy_p90_mwh"


def test_concessional_amount_above_capex(simple_case_dict):
    d = copy.deepcopy(simple_case_dict)
    d["tranches"].insert(1, {"name": "Conc", "kind": "concessional_debt", "rate": 0.01, "tenor_years": 10,
                             "amount": 60e6})
    case = CaseInputs.from_dict(d)
    from finance.case import run_case

    with pytest.raises(FinanceInputError) as info:
        run_case(case)
    assert info.value.field == "tranches[1].amount"


def test_valid_case_parses(base_case_dict):
    case = CaseInputs.from_dict(base_case_dict)
    assert case.n_years == 31
    assert case.grid_connection_usd == 10e6
    assert case.tranche("Senior").target_dscr == 1.3
