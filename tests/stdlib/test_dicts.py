"""Dict builtins: documented examples and error cases."""

from __future__ import annotations

import json

import pytest

from .support import error_of, ev, run

ORDERS = json.dumps(
    {
        "orders": [
            {"id": 1, "items": [{"id": 10, "name": "чай"}]},
            {"id": 2, "items": []},
        ],
        "total": 2,
    }
)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("dict_keys_to_array({'a': 1, 'b': 2})", ["a", "b"]),
        ("dict_keys_to_array({})", []),
        ("dict_keys_to_array('{\"x\": 1}')", ["x"]),
        ("dict_values_to_array({'a': 1, 'b': [2]})", [1, [2]]),
        ('dict_values_to_array(\'{"a": 1, "b": 2}\')', [1, 2]),
        ("exist_key({'a': 1}, 'a')", True),
        ("exist_key({'a': None}, 'a')", True),
        ("exist_key({'a': 1}, 'b')", False),
        ("exist_key({'1': 'x'}, 1)", True),
        ("exist_key('{\"a\": 1}', 'a')", True),
        ("exist_key([10, 20], 1)", True),
        ("exist_key([10, 20], -2)", True),
        ("exist_key([10, 20], 2)", False),
        ("exist_key([10, 20], 'a')", False),
        ("exist_key(None, 'a')", False),
        ("get_values_by_key({'id': 1}, 'id')", [1]),
        ("get_values_by_key({'a': {'id': 2}, 'id': 1}, 'id')", [1, 2]),
        ("get_values_by_key([{'id': 1, 'x': {'id': 2}}, {'id': 3}], 'id')", [1, 2, 3]),
        ("get_values_by_key({'a': {'a': 1}}, 'a')", [{"a": 1}, 1]),
        ("get_values_by_key({'a': 1}, 'b')", []),
        ("get_values_by_key(None, 'b')", []),
        ("sort_by_value({'a': 3, 'b': 1, 'c': 2})", {"b": 1, "c": 2, "a": 3}),
        ("sort_by_value({'a': 3, 'b': 1, 'c': 2}, True)", {"a": 3, "c": 2, "b": 1}),
        ("sort_by_value({'x': '10', 'y': 9})", {"y": 9, "x": "10"}),
    ],
)
def test_documented_behaviour(expr: str, expected: object) -> None:
    assert ev(expr) == expected


def test_sort_by_value_keeps_the_order_in_the_dict() -> None:
    result = ev("sort_by_value({'a': 3, 'b': 1, 'c': 2})")
    assert list(result) == ["b", "c", "a"]


def test_values_are_found_in_an_api_answer_given_as_text() -> None:
    result = run("ids = get_values_by_key(answer, 'id')\nn = arr_len(ids)", {"answer": ORDERS})
    assert result["ids"] == [1, 10, 2]
    assert result["n"] == 3


def test_deeply_nested_data_does_not_exhaust_the_stack() -> None:
    data: object = {"id": "bottom"}
    for _ in range(5000):
        data = {"next": data}
    assert ev("get_values_by_key(d, 'id')", {"d": data}) == ["bottom"]


def test_the_argument_dict_is_not_changed() -> None:
    original = {"b": 2, "a": 1}
    result = run("s = sort_by_value(d)", {"d": original})
    assert list(original) == ["b", "a"]
    assert list(result["s"]) == ["a", "b"]


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("dict_keys_to_array([1])", "dict_keys_to_array(): parameter 'data' must be a dict"),
        ("dict_values_to_array(5)", "dict_values_to_array(): parameter 'data' must be a dict"),
        ("exist_key(5, 'a')", "exist_key(): parameter 'data' must be a dict or a list"),
        ("exist_key('plain text', 'a')", "exist_key(): parameter 'data' must be a dict or a list"),
        ("get_values_by_key(5, 'a')", "get_values_by_key(): parameter 'data' must be a dict"),
        ("sort_by_value([3, 1])", "sort_by_value(): parameter 'data' must be a dict, got a list"),
    ],
)
def test_errors_name_the_function_and_parameter(expr: str, fragment: str) -> None:
    assert fragment in error_of(expr).message
