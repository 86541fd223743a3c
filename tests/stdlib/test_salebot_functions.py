"""The functions added from Salebot's documentation: edge cases, errors and bounds.

The documented examples themselves are in test_salebot_catalogue.py.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from botlang.stdlib.dates import DAY_NAMES, MONTHS_GENITIVE
from botlang.stdlib.strings import TG_RESERVED
from hypothesis import given, settings
from hypothesis import strategies as st

from botlang import LimitExceeded, ScriptError, evaluate
from botlang.core.limits import DEFAULT_LIMITS

from .support import error_of, ev, run
from .test_variables import FakeClients

SETTINGS = settings(max_examples=60, deadline=None)
SMALL = DEFAULT_LIMITS.with_changes(max_string_chars=20, max_collection_items=3)


# ------------------------------------------------------------------ math


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("customizable_round_multiply(2, 3, 2)", 6),
        ("customizable_round_multiply('1.5', 1.5, 1)", 2.3),  # 2.25, half away from zero
        ("customizable_round_division(10, 4, 0)", 3),
        ("customizable_round_division(10, 5, 2)", 2),
        ("customizable_round_division(1, 3, 4)", 0.3333),
        ("int_to_string(1234567, ' ')", "1 234 567"),
        ("int_to_string(1000)", "1 000"),
        ("int_to_string(-1234567.5, ',')", "-1,234,567.5"),
        ("int_to_string('9876543210', '.')", "9.876.543.210"),
        ("int_to_string(12)", "12"),
        ("atan2(0, -1)", 3.141592653589793),
        ("atan2(1, 1) * 4", 3.141592653589793),
        ("pyt(3, 4)", 5),
        ("distance(55.75, 37.62, 55.75, 37.62)", 0),
        ("round(PI, 2)", 3.14),
        ("round(E, 3)", 2.718),
    ],
)
def test_math(expr: str, expected: object) -> None:
    assert ev(expr) == expected


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("customizable_round_division(1, 0, 2)", "customizable_round_division(): division by zero"),
        ("customizable_round_multiply('x', 1, 2)", "parameter 'a' must be a number"),
        ("int_to_string('много')", "int_to_string(): parameter 'number' must be a number"),
        ("distance(91, 0, 0, 0)", "distance(): lat1 must be from -90 to 90, got 91"),
        ("distance(0, 0, 0, 181)", "distance(): lon2 must be from -180 to 180, got 181"),
        ("pyt(1.5e308, 1.5e308)", "pyt(): the result is too large"),
    ],
)
def test_math_errors(expr: str, fragment: str) -> None:
    assert fragment in error_of(expr).message


def test_a_variable_named_like_a_constant_wins() -> None:
    assert run("E = 5\nx = E * 2\ny = PI > 3")["x"] == 10
    assert evaluate("E", {"E": "текст"}) == "текст"


@SETTINGS
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_int_to_string_only_adds_delimiters(number: int) -> None:
    text = ev("int_to_string(n, ' ')", {"n": number})
    assert text.replace(" ", "") == str(number)
    assert all(len(group) == 3 for group in text.lstrip("-").split(" ")[1:])


# ------------------------------------------------------------------ strings


@SETTINGS
@given(st.text(max_size=40))
def test_tg_escape_escapes_exactly_the_reserved_characters(text: str) -> None:
    escaped = ev("tg_escape(t)", {"t": text})
    assert len(escaped) == len(text) + sum(text.count(c) for c in TG_RESERVED)
    unescaped = escaped
    for char in TG_RESERVED:
        unescaped = unescaped.replace("\\" + char, char)
    assert unescaped == text


def test_tg_escape_is_bounded() -> None:
    error = error_of("tg_escape(t)", {"t": "." * 15}, limits=SMALL, kind=LimitExceeded)
    assert "tg_escape(): the result would be 30 characters long; the limit is 20" in error.message


def test_select_random_from_list_follows_the_run_generator() -> None:
    first = run("x = select_random_from_list([1, 2, 3, 4, 5])", rng=random.Random(3))["x"]
    again = run("x = select_random_from_list([1, 2, 3, 4, 5])", rng=random.Random(3))["x"]
    assert first == again
    assert ev("select_random_from_list('[\"a\"]')") == "a"


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("select_random_from_list([])", "select_random_from_list(): the list is empty"),
        ("select_random_from_list(5)", "parameter 'array' must be a list"),
    ],
)
def test_select_random_errors(expr: str, fragment: str) -> None:
    assert fragment in error_of(expr).message


# ------------------------------------------------------------------ lists


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("massive_to_text([1, 2])", "1;\n2;"),
        ("massive_to_text([1, 2], 'Итого:')", "Итого:\n1;\n2;"),
        ("massive_to_text([1, 2], '', True, '.', ' -')", "1 - 1.\n2 - 2."),
        ("massive_to_text(['a'], '', 0)", "a;"),
        ("massive_to_text(['a'], '', '')", "a;"),
        ("massive_to_text(['a'], '', 'да')", "1) a;"),
        ("massive_to_text([])", ""),
        ("massive_to_text(None, 'Пусто')", "Пусто"),
        ("massive_to_text([[1, 2], {'a': 1}])", '[1, 2];\n{"a": 1};'),
        ("shuffle_massive([])", []),
        ('sort(\'{"b": 1, "a": 2}\')', {"a": 2, "b": 1}),
        ("sort({'2': 'x', '10': 'y', 'a': 'z'}, True)", {"a": "z", "10": "y", "2": "x"}),
        ("sort(None)", []),
    ],
)
def test_lists(expr: str, expected: object) -> None:
    assert ev(expr) == expected


def test_massive_to_text_is_bounded_as_it_grows() -> None:
    assert run("t = massive_to_text(a)", {"a": ["1234567", "1234567890"]}, limits=SMALL)
    error = error_of(
        "massive_to_text(a)", {"a": ["1234567890"] * 3}, limits=SMALL, kind=LimitExceeded
    )
    assert "massive_to_text(): the text would be longer than 20 characters" in error.message


def test_unpack_list_sets_deal_variables_only() -> None:
    result = run("n = unpack_list([1, [2], {'a': 3}], 'item_')")
    assert (result["item_1"], result["item_2"], result["item_3"]) == (1, [2], {"a": 3})
    assert result["n"] is None
    assert "item_4" not in result
    assert run("unpack_list([])") == {}


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("unpack_list([1], '1x')", "unpack_list(): parameter 'var_name' must be a variable name"),
        ("unpack_list([1], 'a b')", "parameter 'var_name' must be a variable name"),
    ],
)
def test_unpack_list_errors(expr: str, fragment: str) -> None:
    assert fragment in error_of(expr).message


def test_unpack_list_cannot_overwrite_a_system_variable() -> None:
    from botlang.core.compiler import compile_program
    from botlang.core.runtime.scopes import Environment

    from .support import context

    env = Environment({}, system={"var1": "fixed"})
    with pytest.raises(ScriptError) as caught:
        compile_program("unpack_list(['x'])").execute(env, context())
    assert "'var1' is a system variable" in caught.value.message


def test_unpack_list_respects_the_variable_limit() -> None:
    limits = DEFAULT_LIMITS.with_changes(max_variables_per_scope=3)
    error = error_of("unpack_list([1, 2, 3, 4])", limits=limits, kind=LimitExceeded)
    assert "too many deal variables" in error.message


def test_unpack_list_needs_a_script() -> None:
    with pytest.raises(ScriptError, match="unpack_list\\(\\): sets variables"):
        ev("unpack_list([1])")


# ------------------------------------------------------------------ dicts


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("key_index({'a': 1, 'b': 2}, 'b')", 1),
        ("key_index({'a': 1}, 'x')", -1),
        ("key_index({'1': 1, '2': 2}, 2)", 1),
        ("key_index('{\"a\": 1}', 'a')", 0),
        ("key_index(None, 'a')", -1),
        ("humanize({'a': 1, 'b': [1, 2]})", "a: 1\nb: [1, 2]"),
        ("humanize({'a': 1, 'b': 2, 'c': 3}, ' = ', 1)", "b = 2\nc = 3"),
        ("humanize({'a': 1, 'b': 2, 'c': 3}, ' - ', 0, 2)", "a - 1\nb - 2"),
        ("humanize({})", ""),
    ],
)
def test_dicts(expr: str, expected: object) -> None:
    assert ev(expr) == expected


def test_humanize_is_bounded() -> None:
    error = error_of(
        "humanize(d)", {"d": {"key": "1234567890", "k2": "x"}}, limits=SMALL, kind=LimitExceeded
    )
    assert "humanize(): the text would be longer than 20 characters" in error.message


# ------------------------------------------------------------------ buttons


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            "tools_make_button_str_checker(['Да', 'Нет'])",
            {
                "numbered_list": "1. Да\n2. Нет\n",
                "buttons": [
                    {"type": "reply", "text": "Да", "line": 0, "index_in_line": 0},
                    {"type": "reply", "text": "Нет", "line": 1, "index_in_line": 0},
                ],
                "checker": "Да;1;Нет;2;",
            },
        ),
        ("tools_make_button_str_checker(['Да', 'Нет'], '', 1, 0, 0)['checker']", "Да;Нет;"),
        ("tools_make_button_str_checker([], 'text')['numbered_list']", ""),
        ("tools_check_user_input(['Да', 'Нет'], ' нет ')", "Нет"),
        ("tools_check_user_input(['Да', 'Нет'], '1')", "Да"),
        ("tools_check_user_input(['Да', 'Нет'], '3')", None),
        ("tools_check_user_input(['Да', 'Нет'], 'может быть')", None),
        ("tools_check_user_input([{'t': 'A', 'p': 1}], 'a', 't')", {"t": "A", "p": 1}),
        ("tools_check_user_input([{'t': 'A', 'p': 1}], 'a', 't', 'x')", None),
    ],
)
def test_buttons(expr: str, expected: object) -> None:
    assert ev(expr) == expected


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("tools_make_button_str_checker(['a'], '', 0)", "parameter 'in_line' must be 1 or more"),
        ("tools_make_button_str_checker(['a'], '', 1, 2)", "'button_type' must be 0 (reply) or 1"),
        ("tools_make_button_str_checker([{'a': 1}])", "item 0 is a dict; give the key"),
        ("tools_make_button_str_checker([{'a': 1}], 'b')", 'item 0 has no key "b"'),
        ("tools_check_user_input([{'a': 1}], 'x')", "item 0 is a dict; give the key"),
    ],
)
def test_button_errors(expr: str, fragment: str) -> None:
    assert fragment in error_of(expr).message


def test_buttons_are_bounded() -> None:
    error = error_of(
        "tools_make_button_str_checker(a)",
        {"a": ["1234567890", "12345"]},
        limits=SMALL,
        kind=LimitExceeded,
    )
    assert "tools_make_button_str_checker(): the result would be" in error.message


# ------------------------------------------------------------------ dates


def _at(now: datetime, expr: str) -> object:
    return ev(expr, clock=lambda: now)


@pytest.mark.parametrize(
    ("now", "expr", "expected"),
    [
        (datetime(2022, 1, 31), "month_date(31)", "28.02.2022"),
        (datetime(2022, 1, 31), "month_date(31, True)", "31.01.2022"),
        (datetime(2022, 1, 31, 10), "month_date(30)", "28.02.2022"),
        (datetime(2024, 1, 31, 10), "month_date(30)", "29.02.2024"),
        (datetime(2021, 12, 15), "month_date(10)", "10.01.2022"),
        (datetime(2021, 3, 1), "birthdate('29.02.2000')", "28.02.2022"),
        (datetime(2024, 2, 1), "birthdate('29.02.2000')", "29.02.2024"),
        (datetime(2021, 12, 31), "birthdate('01.01.1990')", "01.01.2022"),
        (datetime(2021, 12, 31), "current_date_rus(1)", "1 января"),
        (datetime(2021, 10, 4), "get_datetime('%A, %d %B %Y')", "Понедельник, 04 октября 2021"),
        (datetime(2021, 5, 9), "get_datetime('%OB %b %a %p')", "Май мая Вс "),
        (
            datetime(2021, 5, 9, 7, 5),
            "get_datetime('%c|%x|%X')",
            "Вс 09 мая 2021 07:05:00|09.05.2021|07:05:00",
        ),
        (datetime(2021, 5, 9, 7, 5), "get_datetime('dd.mm.yyyy HH:MM')", "09.05.2021 07:05"),
        (datetime(2021, 5, 9, 7, 5), "get_datetime('%^A')", "ВОСКРЕСЕНЬЕ"),
        (datetime(2021, 10, 6, 12, 30, 59), "time_interval('12:30', '12:30')", True),
        (datetime(2021, 10, 6, 12, 30, 59), "time_interval('12:30:00', '12:30:30')", False),
        (datetime(2021, 10, 6, 12, 30), "time_interval('06.10.2021', '06.10.2021')", True),
        (datetime(2021, 10, 6, 12, 30), "time_interval('07.10.2021 00:00', '06.10.2021')", False),
        (
            datetime(2021, 10, 6),
            "time_interval('1.1.2021 0:00', '1.1.2022 0:00', '5.5.2021 10:00')",
            True,
        ),
    ],
)
def test_dates_against_the_clock(now: datetime, expr: str, expected: object) -> None:
    assert _at(now, expr) == expected


def test_a_zone_aware_clock_is_read_as_its_wall_time() -> None:
    moscow = timezone(timedelta(hours=3))
    now = datetime(2021, 10, 6, 23, 30, tzinfo=UTC)  # 02:30 on the 7th in Moscow
    clock = now.astimezone(moscow)
    assert _at(clock, "current_date_rus()") == "7 октября"
    assert _at(clock, "time_interval('02:00', '03:00')") is True
    assert _at(clock, "get_datetime('%H:%M %z')") == "02:30 +0300"
    assert _at(clock, "get_datetime('%s')") == str(int(now.timestamp()))


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("convert_datetime('5 марта 2021', '%d %B %Y', '%d.%m.%Y')", "05.03.2021"),
        ("convert_datetime('5 Март 2021', '%d %B %Y', '%d.%m.%Y')", "05.03.2021"),
        ("convert_datetime('Пт 5 мар 2021', '%a %d %b %Y', '%A')", "Пятница"),
        ("convert_datetime('Friday, 5 March 2021', '%A, %d %B %Y', '%d.%m')", "05.03"),
        ("convert_datetime('05.03.2021', '%d.%m.%Y', '%%s %B')", "%s марта"),
        ("convert_datetime('1615000000', '%s', '%s')", "1615000000"),
    ],
)
def test_convert_datetime_names_and_timestamps(expr: str, expected: str) -> None:
    utc = datetime(2021, 1, 1, tzinfo=UTC)
    assert _at(utc, expr) == expected


@SETTINGS
@given(st.dates(min_value=date(1971, 1, 2), max_value=date(2100, 12, 31)), st.integers(0, 86399))
def test_timestamps_round_trip_in_the_run_zone(day: date, seconds: int) -> None:
    zone = timezone(timedelta(hours=5))
    moment = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
    text = moment.strftime("%d.%m.%Y %H:%M:%S")
    now = datetime(2021, 1, 1, tzinfo=zone)
    stamp = _at(now, f"convert_datetime('{text}', '%d.%m.%Y %H:%M:%S', '%s')")
    assert int(stamp) == int(moment.replace(tzinfo=zone).timestamp())
    back = _at(now, f"convert_datetime('{stamp}', '%s', '%d.%m.%Y %H:%M:%S')")
    assert back == text


@SETTINGS
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_date_rus_names_the_day_and_month(day: date) -> None:
    text = ev("date_rus(d)", {"d": day.strftime("%d.%m.%Y")})
    assert text == f"{day.day} {MONTHS_GENITIVE[day.month]}"
    assert (
        ev("get_datetime('%A')", clock=lambda: datetime(day.year, day.month, day.day))
        == (DAY_NAMES[day.isoweekday() % 7])
    )


@SETTINGS
@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)),
    st.integers(1, 7),
    st.booleans(),
)
def test_weekday_date_is_the_next_such_day(today: date, weekday: int, may_today: bool) -> None:
    now = datetime(today.year, today.month, today.day, 9)
    found = datetime.strptime(
        ev("weekday_date(w, b)", {"w": weekday, "b": may_today}, clock=lambda: now), "%d.%m.%Y"
    ).date()
    assert found.isoweekday() == weekday
    assert (found - today).days in (range(0, 7) if may_today else range(1, 8))


@SETTINGS
@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)),
    st.integers(1, 31),
    st.booleans(),
)
def test_month_date_is_the_next_such_day(today: date, day: int, may_today: bool) -> None:
    now = datetime(today.year, today.month, today.day, 9)
    found = datetime.strptime(
        ev("month_date(d, b)", {"d": day, "b": may_today}, clock=lambda: now), "%d.%m.%Y"
    ).date()
    assert found > today or (may_today and found == today)
    assert (found - today).days <= 62
    last = (found.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    assert found.day == min(day, last.day)


# ------------------------------------------------------------------ other clients


def test_get_and_set_client_vars_go_through_the_store() -> None:
    clients = FakeClients()
    result = run(
        "v = get_client_vars(101, ['balance', 'nothing'])\n"
        "set_client_vars('202', {'a': 1, 'b': [1, 2]})",
        clients=clients,
    )
    assert result["v"] == {"balance": 500, "nothing": None}
    assert clients.vars["202"] == {"a": 1, "b": [1, 2]}


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("get_client_vars(999, ['a'])", "get_client_vars(): no client with id '999'"),
        ("set_client_vars(999, {'a': 1})", "set_client_vars(): no client with id '999'"),
        ("get_client_vars(101, ['a', ''])", "get_client_vars(): parameter 'names' is empty"),
        (
            "set_client_vars(101, 'не json')",
            "set_client_vars(): parameter 'variables' must be a dict",
        ),
        ("get_client_vars(101, 'a')", "get_client_vars(): parameter 'names' must be a list"),
    ],
)
def test_get_and_set_client_vars_errors(expr: str, fragment: str) -> None:
    assert fragment in error_of(expr, clients=FakeClients()).message


def test_set_client_vars_values_are_bounded_by_the_store() -> None:
    error = error_of(
        "set_client_vars(101, {'a': 'очень длинный текст'})",
        clients=FakeClients(),
        kind=LimitExceeded,
    )
    assert error.message.startswith("set_client_vars(): value of 'a' is")


def test_client_vars_need_a_client_store() -> None:
    assert "no client store is attached" in error_of("get_client_vars(1, ['a'])").message


# ------------------------------------------------------------------ bounds measured before text


@pytest.mark.parametrize(
    "expr",
    [
        "append([], big)",
        "insert([], 0, big)",
        "massive_to_text([big])",
        "humanize({'k': big})",
        "tools_make_button_str_checker([big])",
    ],
)
def test_a_huge_value_is_refused_before_it_becomes_text(expr: str) -> None:
    big = ["x" * 1000] * 50  # 50,000 characters of items: over the limit of 20,000 below
    limits = DEFAULT_LIMITS.with_changes(max_string_chars=20_000)
    error = error_of(expr, {"big": big}, limits=limits, kind=LimitExceeded)
    assert "would be longer than 20,000 characters" in error.message


def test_int_to_string_is_bounded_with_a_long_delimiter() -> None:
    error = error_of("int_to_string(1234567, d)", {"d": "-" * 10}, limits=SMALL, kind=LimitExceeded)
    assert "int_to_string(): the result would be 27 characters long; the limit is 20" in (
        error.message
    )
