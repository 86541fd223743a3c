"""Phone normalisation shared by the whole project."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botlang.clients.phones import InvalidPhone, digits_only, is_valid_phone, normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("79004443322", "79004443322"),
        ("+7 (900) 444-33-22", "79004443322"),
        ("8 900 444 33 22", "79004443322"),
        ("8(900)444-33-22", "79004443322"),
        ("7.900.444.33.22", "79004443322"),
        ("  +7 900 444 33 22\n", "79004443322"),
        ("+375 29 123-45-67", "375291234567"),
        ("375291234567", "375291234567"),
        ("+1 202 555 0147", "12025550147"),
        (79004443322, "79004443322"),
        (89004443322, "79004443322"),
        (79004443322.0, "79004443322"),
        ("7\u00a0900\u00a0444\u201133\u201122", "79004443322"),
    ],
)
def test_obvious_forms(raw: object, expected: str) -> None:
    assert normalize_phone(raw) == expected
    assert is_valid_phone(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (None, "missing"),
        ("9004443322", "too short: 10 digits.*add the country code"),
        ("12345", "too short: 5 digits"),
        ("7900444332211223", "too long: 16 digits"),
        ("7900abc4433", "contains letters"),
        ("tel:+79004443322", "contains letters"),
        ("7900#4443322", "unexpected character '#'"),
        ("+7+9004443322", "only allowed at the start"),
        ("---", "contains no digits"),
        ("07900444332", "must start with a country code"),
        ("+8 491 234 56 78", "ambiguous"),
        (-79004443322, "negative"),
        (7.9e10 + 0.5, "not a whole number"),
        (True, "not true/false"),
        (["79004443322"], "not list"),
        ("7" * 100, "too long"),
    ],
)
def test_rejected_with_a_clear_message(raw: object, message: str) -> None:
    with pytest.raises(InvalidPhone, match=message):
        normalize_phone(raw)
    assert not is_valid_phone(raw)


def test_invalid_phone_is_a_value_error() -> None:
    assert issubclass(InvalidPhone, ValueError)


def test_digits_only() -> None:
    assert digits_only("+7 (900) 444-33-22") == "79004443322"
    assert digits_only(79004443322) == "79004443322"
    assert digits_only(None) == ""
    assert digits_only("abc") == ""


_separator = st.sampled_from(["", " ", "-", ".", " - "])


@given(
    first=st.integers(min_value=1, max_value=9),
    rest=st.lists(st.integers(min_value=0, max_value=9), min_size=10, max_size=14),
    seps=st.lists(_separator, min_size=15, max_size=15),
    plus=st.booleans(),
)
def test_separators_never_change_the_digits(
    first: int, rest: list[int], seps: list[str], plus: bool
) -> None:
    digits = str(first) + "".join(map(str, rest))
    text = ("+" if plus else "") + "".join(d + s for d, s in zip(digits, seps, strict=False))
    expected = digits
    if len(digits) == 11 and digits[0] == "8":
        if plus:
            with pytest.raises(InvalidPhone, match="ambiguous"):
                normalize_phone(text)
            return
        expected = "7" + digits[1:]
    assert normalize_phone(text) == expected
    assert normalize_phone(expected) == expected  # idempotent
