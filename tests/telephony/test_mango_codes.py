"""Result codes: the table, the class rule, unknown classes."""

from __future__ import annotations

import pytest

from botlang.telephony import codes
from botlang.telephony.codes import CODES, CODES_EN, describe, lookup


def test_seed_examples() -> None:
    assert describe(2219) == CODES[2210] == "Доступ ограничен периодом использования"
    assert describe(1090) == CODES[1000] == "Действие успешно выполнено"
    assert describe("2219") == CODES[2210]
    assert describe(" 1090 ") == CODES[1000]


def test_table_is_complete() -> None:
    # 120 codes in the product table, plus 4290 (rate limit) from the API specification.
    assert len(CODES) == 121
    assert set(CODES_EN) == set(CODES)
    assert all(1000 <= code <= 9999 for code in CODES)
    for code in (1000, 1121, 1236, 2250, 3105, 3340, 4405, 4505, 5007, 5212, 6102):
        assert describe(code) == CODES[code]


@pytest.mark.parametrize(
    ("code", "matched"),
    [
        # exact, subclass (last digit zeroed), class (last two), top class (last three)
        (1121, 1121),
        (1125, 1120),
        (1199, 1190),
        (1095, 1000),
        (1213, 1210),
        (1299, 1200),
        (2213, 2210),
        (2299, 2200),
        (2999, 2000),
        (3106, 3100),
        (3201, 3200),
        (3999, 3000),
        (4103, 4100),
        (4394, 4300),
        (4999, 4000),
        (5005, 5000),
        (5104, 5000),
        (5999, 5000),
        (6015, 6010),
        (6999, 6000),
    ],
)
def test_class_rule_for_every_class(code: int, matched: int) -> None:
    info = lookup(code)
    assert info.matched == matched
    assert describe(code) == CODES[matched]
    assert describe(code, "en") == CODES_EN[matched]


@pytest.mark.parametrize("code", [7000, 7123, 9999, 999, 0, 12345])
def test_unknown_classes_say_so(code: int) -> None:
    info = lookup(code)
    assert not info.known
    assert "Неизвестный код" in describe(code)
    assert str(code) in describe(code)
    assert "unknown result code" in describe(code, "en")


@pytest.mark.parametrize("value", ["abc", "", "12a", None, True, -5, 1.5, [1000]])
def test_not_a_code(value: object) -> None:
    with pytest.raises(ValueError, match="not a result code"):
        describe(value)


def test_code_predicates() -> None:
    assert codes.is_success(1000) and codes.is_success("1000") and codes.is_success(1100)
    assert not codes.is_success(1121) and not codes.is_success(3102)
    assert codes.is_request_error(3102) and not codes.is_request_error(4501)
    assert codes.is_server_error("5003")
    assert codes.category(2219) == "billing restriction"
    assert codes.category(7000) == "unknown"
    assert codes.candidates(2219) == (2219, 2210, 2200, 2000)
    assert codes.candidates(1000) == (1000,)


def test_outcome_names() -> None:
    assert codes.outcome_code("busy") == 1121
    assert codes.outcome_code("no_answer") == 1111
    assert codes.outcome_code("No Answer") == 1111
    assert codes.outcome_code("1122") == 1122
    assert codes.outcome_code(1111) == 1111
    with pytest.raises(ValueError, match="unknown outcome"):
        codes.outcome_code("maybe")
