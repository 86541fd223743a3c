"""One short line cannot take all memory: sizes are measured on the structure, every run has
an allocation budget, and print output and messages are bounded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import botlang
from botlang import LimitExceeded
from botlang.core.limits import DEFAULT_LIMITS
from botlang.core.runtime.sizes import TooDeep, size_of

from .support import located, peak_mb

L = DEFAULT_LIMITS
TEXT = "x" * 100_000


def run(source: str, **variables: Any) -> dict[str, Any]:
    return botlang.run(source, variables)


def refused(source: str, match: str = "", **variables: Any) -> float:
    """The script is refused with a located LimitExceeded; the peak memory it took (MB)."""
    error = located(lambda: run(source, **variables), LimitExceeded)
    assert match in error.message, error.message
    return peak_mb(lambda: run(source, **variables))


def test_repeat_of_repeats_is_refused_before_it_is_built() -> None:
    assert refused("a = [[[0] * 1000] * 1000] * 1000", "each repeated row counts") < 20


def test_repeat_of_a_long_text_in_a_list_is_refused() -> None:
    assert refused("a = [s] * 100000", "as JSON", s=TEXT) < 20


def test_empty_text_plus_shared_rows_is_refused_before_the_text_is_made() -> None:
    assert refused("t = '' + [s] * 9", "text too long", s=TEXT) < 10


def test_str_of_shared_rows_is_refused_before_the_text_is_made() -> None:
    assert refused("t = str([s] * 100)", "characters", s="y" * 10_000) < 10


def test_message_of_shared_rows_is_refused_before_the_text_is_made() -> None:
    rows = [TEXT[:90_000]] * 9
    with pytest.raises(LimitExceeded):
        botlang.render("#{r}", {"r": rows})
    assert peak_mb(lambda: botlang.render("#{r}", {"r": rows})) < 10


def test_get_values_by_key_over_shared_rows_is_bounded() -> None:
    source = "v = get_values_by_key([{'k': s}] * 9, 'k')"
    assert refused(source, "", s=TEXT) < 20


def test_sort_of_shared_rows_is_bounded() -> None:
    assert refused("v = sort([s] * 20)", "", s=TEXT) < 20


def test_remove_duplicates_of_shared_rows_is_bounded() -> None:
    assert refused("v = remove_duplicates([[s]] * 20)", "", s=TEXT) < 20


def test_except_arr_and_cross_arr_of_shared_rows_are_bounded() -> None:
    assert refused("v = except_arr([[s]] * 20, [])", "", s=TEXT) < 20
    assert refused("v = cross_arr([[s]] * 20, [[s]])", "", s=TEXT) < 20


def test_a_list_display_of_one_long_text_many_times_is_refused() -> None:
    assert refused("a = [" + ", ".join(["s"] * 20) + "]", "as JSON", s=TEXT) < 20


def test_a_dict_display_of_one_long_text_many_times_is_refused() -> None:
    pairs = ", ".join(f"'k{i}': s" for i in range(20))
    assert refused("d = {" + pairs + "}", "as JSON", s=TEXT) < 20


def test_doubling_a_list_stops_at_the_value_size() -> None:
    assert refused("a = [s]\n" + "a = a + a\n" * 30, "", s="y" * 1000) < 20


def test_appending_a_long_text_again_and_again_stops() -> None:
    assert refused("a = []\n" + "a = append(a, s)\n" * 30, "", s=TEXT) < 20


def test_a_path_assignment_of_a_big_value_is_refused() -> None:
    assert refused("d = {}\nd['k'] = [s] * 5", "", s=TEXT) < 20


def test_a_stored_value_is_measured_before_it_becomes_json() -> None:
    rows = [[0] * 1000] * 1000  # a host can pass such a value; storing it is refused
    error = located(lambda: run("a = r", r=rows), LimitExceeded)
    assert "characters long" in error.message
    assert peak_mb(lambda: run("a = r", r=rows)) < 5


def test_seventy_nested_prints_are_bounded() -> None:
    source = "x = " + "print(" * 70 + "s" + ", s)" * 70
    assert refused(source, "print()", s="abc" * 100) < 10


def test_print_output_is_bounded_per_run() -> None:
    assert refused("print(s)\n" * 20, "showed more than", s="x" * 10_000) < 10


def test_a_message_of_many_long_substitutions_is_bounded() -> None:
    with pytest.raises(LimitExceeded, match="message"):
        botlang.render("#{s}" * 25_000, {"s": TEXT})
    assert peak_mb(lambda: botlang.render("#{s}" * 25_000, {"s": TEXT})) < 20


def test_upper_tripling_a_text_is_refused() -> None:
    refused("x = upper(s)", "too long", s="ﬃ" * 100_000)


def test_replace_growing_a_text_is_refused() -> None:
    refused("x = replace(s, 'x', 'xx')", "", s=TEXT[:60_000])


def test_findall_with_too_many_matches_is_refused() -> None:
    assert refused("x = findall('', s + s)", "", s=TEXT[:60_000]) < 40


def test_splitter_into_too_many_items_is_refused() -> None:
    refused("x = splitter(s, ',')", "", s="," * 99_999 + "," * 1)


def test_the_run_allocation_budget_stops_many_big_texts() -> None:
    refused("x = s + 'a'\n" * 200, "built more than", s=TEXT[:99_000])


def test_deeply_nested_json_text_is_refused() -> None:
    text = "[" * 500 + "]" * 500
    refused("n = arr_len(s)", "levels deep", s=text)


def test_a_value_nested_too_deeply_is_refused_where_it_is_built() -> None:
    error = located(lambda: run("a = 1\n" + "a = [a]\n" * 150), LimitExceeded)
    assert error.line == L.max_value_depth + 2  # line k + 1 nests k deep


def test_size_counts_a_shared_row_every_time_it_appears() -> None:
    row = [0] * 1000
    assert size_of([row] * 1000, 10**9, 100) > 1000 * 1000
    assert size_of([row] * 1000, 5000, 100) > 5000  # stops early, still over the cap


def test_size_of_too_deep_a_value_raises() -> None:
    value: Any = 1
    for _ in range(10):
        value = [value]
    with pytest.raises(TooDeep):
        size_of(value, 10**9, 5)


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=25
)


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_size_is_never_more_than_the_json_length(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert size_of(value, 10**9, 100) <= len(text)


def test_a_long_script_compiles_in_bounded_memory() -> None:
    # one Python function of 4,000 statements took 170 MB to compile; chunks take a tenth
    source = "a = a + 1\n" * 4000
    assert peak_mb(lambda: botlang.compile(source, "long.calc")) < 60
    assert botlang.run(source, {"a": 0}) == {"a": 4000}
