"""Property tests of the library through the real language."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from botlang.stdlib.lists import identity, sort_key
from hypothesis import given, settings
from hypothesis import strategies as st

from .support import ev

SETTINGS = settings(max_examples=60, deadline=None)

scalars = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.text(max_size=6),
    st.integers(min_value=0, max_value=99).map(str),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)).map(
        lambda d: d.strftime("%d.%m.%Y")
    ),
    st.none(),
)
lists = st.lists(scalars, max_size=12)


def _multiset(items: list[object]) -> Counter[str]:
    return Counter(repr(item) for item in items)


@SETTINGS
@given(lists, st.booleans())
def test_sort_output_is_an_ordered_permutation(items: list[object], desc: bool) -> None:
    result = ev("sort(a, d)", {"a": items, "d": desc})
    keys = [sort_key(item) for item in result]
    assert keys == sorted(keys, reverse=desc)
    assert _multiset(result) == _multiset(items)


@SETTINGS
@given(lists)
def test_remove_duplicates_is_idempotent_and_keeps_every_value(items: list[object]) -> None:
    once = ev("remove_duplicates(a)", {"a": items})
    assert ev("remove_duplicates(a)", {"a": once}) == once
    assert {identity(i) for i in once} == {identity(i) for i in items}
    assert len({identity(i) for i in once}) == len(once)


@SETTINGS
@given(lists, lists)
def test_except_and_cross_split_the_first_list(a: list[object], b: list[object]) -> None:
    kept = ev("except_arr(a, b)", {"a": a, "b": b})
    shared = ev("cross_arr(a, b)", {"a": a, "b": b})
    unique_a = ev("remove_duplicates(a)", {"a": a})
    assert sorted(map(repr, kept + shared)) == sorted(map(repr, unique_a))


@SETTINGS
@given(lists, scalars)
def test_in_array_index_and_count_agree(items: list[object], value: object) -> None:
    variables = {"a": items, "v": value}
    position = ev("index(a, v)", variables)
    count = ev("count_occurrences(a, v)", variables)
    assert ev("in_array(a, v)", variables) is (position >= 0)
    assert (count > 0) is (position >= 0)


@SETTINGS
@given(lists, scalars)
def test_append_returns_a_new_list(items: list[object], value: object) -> None:
    before = list(items)
    result = ev("append(a, v)", {"a": items, "v": value})
    assert items == before
    assert result == [*before, value]
    assert ev("arr_len(append(a, v))", {"a": items, "v": value}) == len(items) + 1


@SETTINGS
@given(st.text(max_size=30), st.integers(-40, 40), st.integers(-40, 40))
def test_substring_is_python_slicing(text: str, start: int, end: int) -> None:
    assert ev("substring(s, a, b)", {"s": text, "a": start, "b": end}) == text[start:end]


@SETTINGS
@given(st.text(max_size=60))
def test_base64_and_url_encodings_round_trip(text: str) -> None:
    text = text.encode("utf-8", "replace").decode("utf-8")
    assert ev("base64decode(base64(s))", {"s": text}) == text
    assert ev("urldecode(urlencode(s))", {"s": text}) == text


@SETTINGS
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    st.integers(-5000, 5000),
)
def test_add_days_matches_calendar_arithmetic(day: date, days: int) -> None:
    text = day.strftime("%d.%m.%Y")
    expected = (day + timedelta(days=days)).strftime("%d.%m.%Y")
    assert ev("addDays(d, n)", {"d": text, "n": days}) == expected
    assert ev("add_days(addDays(d, n), 0 - n)", {"d": text, "n": days}) == text


@SETTINGS
@given(st.integers(0, 1439), st.integers(-3000, 3000))
def test_add_minutes_stays_on_the_clock(start: int, minutes: int) -> None:
    text = f"{start // 60:02d}:{start % 60:02d}"
    result = ev("addMinutes(t, n)", {"t": text, "n": minutes})
    hours, mins = map(int, result.split(":"))
    assert (hours * 60 + mins) == (start + minutes) % 1440


@SETTINGS
@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.integers(0, 6))
def test_round_is_close_to_its_argument(x: float, digits: int) -> None:
    assert abs(ev("round(x, d)", {"x": x, "d": digits}) - x) <= 0.5 * 10**-digits + 1e-6


@SETTINGS
@given(st.text(max_size=30))
def test_normalize_phone_gives_digits_only(text: str) -> None:
    result = ev("normalizePhone(s)", {"s": text})
    assert result == "" or result.isdigit()
    assert result.isascii()
