"""List builtins: documented examples, value semantics, sentinels and error cases."""

from __future__ import annotations

import pytest

from botlang import LimitExceeded
from botlang.core.limits import DEFAULT_LIMITS

from .support import error_of, ev, run


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("in_array([1, 2, 3], 2)", True),
        ("in_array([1, 2, 3], '2')", True),
        ("in_array(['a', 'b'], 'c')", False),
        ("in_array('[1, 2]', 1)", True),
        ("in_array(None, 1)", False),
        ("arr_len([1, 2, 3])", 3),
        ("arr_len({'a': 1})", 1),
        ("arr_len('[1, 2]')", 2),
        ("arr_len([])", 0),
        ("arr_len('abc')", -1),
        ("arr_len(5)", -1),
        ("arr_len(None)", -1),
        ("arr_len(True)", -1),
        ("append([1, 2], 3)", [1, 2, 3]),
        ("append(None, 'x')", ["x"]),
        ("append([], [1])", ["[1]"]),
        ("append([], [1], True)", [[1]]),
        ("append([], '[1]', True)", [[1]]),
        ("append([], '{\"a\": 1}', True)", [{"a": 1}]),
        ("append([], '{\"a\": 1}')", ['{"a": 1}']),
        ("insert([1], 0, {'a': 1})", ['{"a": 1}', 1]),
        ("insert([1], 1, {'a': 1}, True)", [1, {"a": 1}]),
        ("arr_len()", 0),
        ("insert([1, 3], 1, 2)", [1, 2, 3]),
        ("insert([1, 2], 0, 0)", [0, 1, 2]),
        ("insert([1, 2], 10, 3)", [1, 2, 3]),
        ("insert([1, 2], -1, 9)", [1, 9, 2]),
        ("del([1, 2, 3], 0)", [2, 3]),
        ("del([1, 2, 3], -1)", [1, 2]),
        ("del([1, 2, 3], '1')", [1, 3]),
        ("del({'a': 1, 'b': 2}, 'a')", {"b": 2}),
        ("del('[1, 2]', 0)", [2]),
        ("del('{\"a\": 1}', 'a')", {}),
        ("remove([1, 2, 1], 1)", [2, 1]),
        ("remove(['a', 'b'], 'c')", ["a", "b"]),
        ("remove([1, '2'], 2)", [1]),
        ("index([10, 20, 30], 20)", 1),
        ("index([10, 20, 30], '30')", 2),
        ("index([10, 20], 99)", -1),
        ("index(None, 1)", -1),
        ("sort([3, 1, 2])", [1, 2, 3]),
        ("sort([3, 1, 2], True)", [3, 2, 1]),
        ("sort(['10', 9, '2.5'])", ["2.5", 9, "10"]),
        ("sort(['b', 'a', 'C'])", ["a", "b", "C"]),
        (
            "sort(['01.02.2021', '31.01.2021', '15.01.2020'])",
            ["15.01.2020", "31.01.2021", "01.02.2021"],
        ),
        ("sort(['b', 2, '10:00', '01.01.2020', 1])", [1, 2, "01.01.2020", "10:00", "b"]),
        ("sort([])", []),
        ("array_slice([1, 2, 3, 4], 1, 3)", [2, 3]),
        ("array_slice([1, 2, 3, 4], 2)", [3, 4]),
        ("array_slice([1, 2, 3, 4], -2)", [3, 4]),
        ("array_slice([1, 2, 3, 4], 0, -1)", [1, 2, 3]),
        ("sum_array([1, 2, 3])", 6),
        ("sum_array([1, '2', 3.5])", 6.5),
        ("sum_array([1, None])", 1),
        ("sum_array([])", 0),
        ("remove_duplicates([1, 2, 1, 3, 2])", [1, 2, 3]),
        ("remove_duplicates([1, '1', 1.0])", [1]),
        ("remove_duplicates(['a', 'A', 'a'])", ["a", "A"]),
        ("remove_duplicates([[1], [1], {'a': 1}, {'a': 1}])", [[1], {"a": 1}]),
        ("count_occurrences([1, 2, 1, '1'], 1)", 3),
        ("count_occurrences(['a', 'b'], 'c')", 0),
        ("except_arr([1, 2, 3, 4], [2, 4])", [1, 3]),
        ("except_arr([1, 1, 2], [])", [1, 2]),
        ("except_arr(['1', 2], [1])", [2]),
        ("cross_arr([1, 2, 3, 2], [2, 3, 5])", [2, 3]),
        ("cross_arr([1, 2], [3])", []),
    ],
)
def test_documented_behaviour(expr: str, expected: object) -> None:
    assert ev(expr) == expected


def test_functions_return_new_lists_and_never_change_their_argument() -> None:
    source = "\n".join(
        [
            "b = append(a, 4)",
            "c = insert(a, 0, 0)",
            "d = del(a, 0)",
            "e = remove(a, 2)",
            "f = sort(a, True)",
            "g = remove_duplicates(a)",
            "h = array_slice(a, 1)",
        ]
    )
    original = [1, 2, 3]
    result = run(source, {"a": original})
    assert original == [1, 2, 3]
    assert result["a"] == [1, 2, 3]
    assert result["b"] == [1, 2, 3, 4]
    assert result["c"] == [0, 1, 2, 3]
    assert result["d"] == [2, 3]
    assert result["e"] == [1, 3]
    assert result["f"] == [3, 2, 1]
    assert result["g"] == [1, 2, 3]
    assert result["h"] == [2, 3]


def test_the_function_form_of_del_assigns_back() -> None:
    assert run("arr = [1, 2, 3]\narr = del(arr, 0)")["arr"] == [2, 3]


def test_building_a_list_from_nothing() -> None:
    assert run("items = append(items, 'a')\nitems = append(items, 'b')")["items"] == ["a", "b"]


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("in_array(5, 1)", "in_array(): parameter 'arr' must be a list, got a number 5"),
        ("append('text', 1)", "append(): parameter 'arr' must be a list, got the text"),
        ("insert([1], 'x', 2)", "insert(): parameter 'index' must be a whole number"),
        ("insert(5, 0, 2)", "insert(): parameter 'arr' must be a list"),
        ("del(5, 0)", "del(): parameter 'container' must be a list or a dict"),
        ("del('[]', 0)", "del(): index 0 is out of range for a list of 0 items"),
        ("del([1], 'a')", "del(): parameter 'key' must be a whole number for a list"),
        ("del([1], 3)", "del(): index 3 is out of range for a list of 1 item"),
        ("del([], 0)", "del(): index 0 is out of range for a list of 0 items"),
        ("del({'a': 1}, 'b')", 'del(): key "b" is not in the dict'),
        ("remove(5, 1)", "remove(): parameter 'arr' must be a list"),
        ("index('abc', 'b')", "index(): parameter 'arr' must be a list"),
        ("sort(5)", "sort(): parameter 'arr' must be a list or a dict, got a number 5"),
        ("append([], 'x', True)", 'append(): the value is the text "x", not JSON'),
        ("insert([], 0, '[1', True)", "insert(): the value is the text"),
        ("array_slice([1], 'a')", "array_slice(): parameter 'start' must be a whole number"),
        ("array_slice([1], 0, 'b')", "array_slice(): parameter 'end' must be a whole number"),
        (
            "sum_array([1, 'a'])",
            'sum_array(): array has unsupported elements: item 1 is the text "a", not a number',
        ),
        ("sum_array({'a': 1})", "sum_array(): parameter 'arr' must be a list, got a dict"),
        ("remove_duplicates(5)", "remove_duplicates(): parameter 'arr' must be a list"),
        ("count_occurrences(5, 1)", "count_occurrences(): parameter 'arr' must be a list"),
        ("except_arr(1, [])", "except_arr(): parameter 'arr' must be a list"),
        ("cross_arr([], 1)", "cross_arr(): parameter 'other' must be a list"),
    ],
)
def test_errors_name_the_function_and_parameter(expr: str, fragment: str) -> None:
    assert fragment in error_of(expr).message


@pytest.mark.parametrize("expr", ["append(a, 4)", "insert(a, 0, 4)"])
def test_growing_a_list_is_bounded(expr: str) -> None:
    limits = DEFAULT_LIMITS.with_changes(max_collection_items=3)
    error = error_of(expr, {"a": [1, 2, 3]}, limits=limits, kind=LimitExceeded)
    assert "the result would have 4 items; the limit is 3" in error.message
