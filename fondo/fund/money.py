"""Money of the fund: exact decimals, ISO 4217 currencies and their minor units.

Amounts are Python :class:`~decimal.Decimal` from the request to the database and back,
never floats. In JSON an amount is a **string** holding the exact decimal with as many
decimals as its currency has (``"1250000.00"`` USD, ``"1500"`` JPY, ``"12.345"`` BHD),
so no JSON reader turns it into a binary float. A request may send an amount as a string
or as a JSON number; a number is read by its shortest decimal representation (the digits
written in the request), and must not hold more decimals than the currency allows.

Stored amounts use :class:`ExactDecimal`: ``NUMERIC(24, scale)`` on PostgreSQL, and on
SQLite (which would store a NUMERIC as a binary float) the canonical decimal text.

FX conversions state their rate (units of the amount's currency per unit of the fund's
currency) and the rate's date; the converted amount is rounded half-even to the target
currency's minor unit.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from sqlalchemy import Numeric, String
from sqlalchemy.types import TypeDecorator

from fondo.errors import InvalidInput

__all__ = ["ISO_4217_MINOR_UNITS", "ExactDecimal", "check_currency", "parse_amount",
           "parse_rate", "convert", "amount_text", "quantize"]

_ZERO = ("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF").split()
_THREE = "BHD IQD JOD KWD LYD OMR TND".split()
_FOUR = "CLF UYW".split()
_TWO = ("AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD "
        "BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP "
        "ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR "
        "JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU "
        "MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR "
        "RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS "
        "TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW "
        "ZWG").split()
#: ISO 4217 currency codes in circulation and their minor units (decimals), from ISO 4217
#: List One (maintenance agency SIX Financial Information, 2024–2025 amendments: SLE, VED,
#: ZWG, XCG). Codes without a minor unit (precious metals XAU…, XDR, XTS, XXX) are not
#: money the fund books and are refused. [decimals]
ISO_4217_MINOR_UNITS = MappingProxyType(
    {c: 0 for c in _ZERO} | {c: 2 for c in _TWO} | {c: 3 for c in _THREE} | {c: 4 for c in _FOUR})
#: Digits of a stored amount (Numeric precision). Up to 10^20 units.
AMOUNT_PRECISION = 24
#: Decimals stored for an amount: the largest minor unit of ISO 4217 (CLF, UYW).
AMOUNT_SCALE = 4
#: Decimals of a stored FX rate.
RATE_SCALE = 10
#: Largest amount accepted (keeps every stored value inside NUMERIC(24, 4)).
MAX_AMOUNT = Decimal(10) ** (AMOUNT_PRECISION - AMOUNT_SCALE) - 1


class ExactDecimal(TypeDecorator):
    """An exact decimal column: NUMERIC on PostgreSQL, canonical text on SQLite."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = AMOUNT_PRECISION, scale: int = AMOUNT_SCALE) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision, self.scale = precision, scale

    def load_dialect_impl(self, dialect):  # noqa: D102 - SQLAlchemy hook
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.precision + 2))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value, dialect):  # noqa: D102 - SQLAlchemy hook
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = Decimal(repr(value))  # the shortest decimal that reads back as the float
        if not isinstance(value, Decimal) or not value.is_finite():
            raise TypeError(f"expected a finite Decimal, got {value!r}")
        if dialect.name == "sqlite":
            return format(value, "f")
        return value

    def process_result_value(self, value, dialect):  # noqa: D102 - SQLAlchemy hook
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


def check_currency(code: Any, field: str) -> str:
    """The ISO 4217 code ``code`` (upper case), or :class:`InvalidInput` naming ``field``."""
    if not isinstance(code, str) or code.upper() not in ISO_4217_MINOR_UNITS:
        raise InvalidInput(f"{code!r} is not an ISO 4217 currency code in circulation.",
                           field=field)
    return code.upper()


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise InvalidInput("An amount is a decimal string or a number.", field=field)
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise InvalidInput(f"{value!r} is not a decimal number.", field=field) from None
    if not number.is_finite():
        raise InvalidInput("An amount must be a finite number.", field=field)
    return number


def parse_amount(value: Any, currency: str, field: str, *, allow_zero: bool = False) -> Decimal:
    """An exact amount of ``currency`` (> 0, or ≥ 0 with ``allow_zero``).

    Raises
    ------
    InvalidInput
        Naming ``field``: not a number, negative (or zero), too large, or more decimals
        than the currency's minor unit (``"10.001"`` USD).
    """
    number = _decimal(value, field)
    if number < 0 or (number == 0 and not allow_zero):
        raise InvalidInput(f"The amount must be {'≥' if allow_zero else '>'} 0, got {number}.",
                           field=field)
    if number > MAX_AMOUNT:
        raise InvalidInput(f"The amount exceeds {MAX_AMOUNT}.", field=field)
    decimals = ISO_4217_MINOR_UNITS[currency]
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals:
        raise InvalidInput(f"{currency} has {decimals} decimals; {value!r} has more.",
                           field=field)
    return quantize(number, currency)


def parse_rate(value: Any, field: str) -> Decimal:
    """An FX rate > 0 with at most :data:`RATE_SCALE` decimals."""
    number = _decimal(value, field)
    if number <= 0 or number > Decimal(10) ** 12:
        raise InvalidInput("An FX rate must be > 0 and at most 1e12.", field=field)
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > RATE_SCALE:
        raise InvalidInput(f"An FX rate has at most {RATE_SCALE} decimals.", field=field)
    return number


def quantize(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-even to the minor unit of ``currency``."""
    return amount.quantize(Decimal(1).scaleb(-ISO_4217_MINOR_UNITS[currency]),
                           rounding=ROUND_HALF_EVEN)


def convert(amount: Decimal, rate: Decimal, target_currency: str, field: str = "fx_rate"
            ) -> Decimal:
    """``amount / rate`` in ``target_currency``, rounded half-even to its minor unit.

    ``rate`` is units of the amount's currency per unit of the target currency.

    Raises
    ------
    InvalidInput
        Naming ``field``: the converted amount exceeds :data:`MAX_AMOUNT`.
    """
    value = amount / rate
    if value > MAX_AMOUNT:
        raise InvalidInput(f"At this rate the amount would exceed {MAX_AMOUNT} "
                           f"{target_currency}.", field=field)
    return quantize(value, target_currency)


def amount_text(amount: Decimal | None, currency: str) -> str | None:
    """The JSON form of an amount: the exact decimal with the currency's decimals."""
    if amount is None:
        return None
    return format(quantize(Decimal(amount), currency), "f")


def fx_json(rate: Decimal | None, rate_date: date | None, source: str | None,
            from_currency: str, to_currency: str) -> dict[str, Any]:
    """How an amount was converted: rate (text), its date and source."""
    return {"from_currency": from_currency, "to_currency": to_currency,
            "rate": None if rate is None else format(rate.normalize(), "f"),
            "rate_date": rate_date.isoformat() if rate_date else None, "source": source}
