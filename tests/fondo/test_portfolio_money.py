"""Exact money (fondo/fund/money.py): ISO 4217 minor units, decimals, conversions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fondo.errors import InvalidInput
from fondo.fund.money import (ISO_4217_MINOR_UNITS, MAX_AMOUNT, amount_text, check_currency,
                              convert, parse_amount, parse_rate)


@pytest.mark.parametrize(("code", "decimals"), [
    ("USD", 2), ("CAD", 2), ("MXN", 2), ("EUR", 2), ("JPY", 0), ("CLP", 0), ("KRW", 0),
    ("BHD", 3), ("KWD", 3), ("TND", 3), ("CLF", 4), ("UYW", 4)])
def test_minor_units_of_iso_4217(code, decimals):
    assert ISO_4217_MINOR_UNITS[code] == decimals


@pytest.mark.parametrize("code", ["XYZ", "usd ", "XAU", "XXX", "", 840, None])
def test_unknown_currencies_are_refused(code):
    with pytest.raises(InvalidInput) as err:
        check_currency(code, "currency")
    assert err.value.field == "currency"


@pytest.mark.parametrize(("value", "currency", "text"), [
    ("1250000.5", "USD", "1250000.50"), (1250000.5, "USD", "1250000.50"), ("1500", "JPY", "1500"),
    (0.1, "USD", "0.10"), ("12.345", "BHD", "12.345"), ("1e3", "MXN", "1000.00"),
    ("99999999999999999999", "USD", "99999999999999999999.00"),
])
def test_amounts_are_exact(value, currency, text):
    assert amount_text(parse_amount(value, currency, "amount"), currency) == text


@pytest.mark.parametrize(("value", "currency"), [
    ("10.001", "USD"), ("1.5", "JPY"), ("12.3456", "BHD"), (0.001, "USD"), ("-1", "USD"),
    ("0", "USD"), ("NaN", "USD"), ("Infinity", "USD"), ("1e21", "USD"), ("abc", "USD"),
    (True, "USD"), ([1], "USD")])
def test_bad_amounts_name_the_field(value, currency):
    with pytest.raises(InvalidInput) as err:
        parse_amount(value, currency, "amount")
    assert err.value.field == "amount"


def test_conversion_rounds_half_even_and_states_overflow():
    # 0.30 CAD / 1.375 = 0.21818… → 0.22; 1.25 / 2 = 0.625 → 0.62 (half-even)
    assert convert(Decimal("0.30"), Decimal("1.375"), "USD") == Decimal("0.22")
    assert convert(Decimal("1.25"), Decimal("2"), "USD") == Decimal("0.62")
    assert convert(Decimal("1000"), Decimal("3"), "JPY") == Decimal("333")
    with pytest.raises(InvalidInput) as err:
        convert(MAX_AMOUNT, Decimal("0.5"), "USD")
    assert err.value.field == "fx_rate"
    with pytest.raises(InvalidInput):
        parse_rate("0", "fx_rate")
    with pytest.raises(InvalidInput):
        parse_rate("1.00000000001", "fx_rate")
