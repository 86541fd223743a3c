"""The library as a whole: every documented function is registered, documented and checks
its argument count at the call's position."""

from __future__ import annotations

import pytest

from botlang import ParseError
from botlang.core.builtins import Builtin, load_stdlib

from .support import error_of

REGISTRY = load_stdlib()

# The Salebot function list, by module (int and len live with the core conversions).
SALEBOT_FUNCTIONS = {
    "math": "abs ceil floor round sqrt exp log pow min max random sin cos tan asin acos atan "
    "atan2 pyt fac is_int is_float md5 sha1 sha256 customizable_round_multiply "
    "customizable_round_division int_to_string distance",
    "strings": "substring startswith endswith contains concat lower upper strip capitalize "
    "title replace splitter normalizePhone base64 base64decode urlencode urldecode "
    "hmac_hexdigest tg_escape select_random_from_list",
    "regex": "findall similar",
    "lists": "in_array arr_len append insert del remove index sort array_slice sum_array "
    "remove_duplicates count_occurrences except_arr cross_arr massive_to_text "
    "shuffle_massive unpack_list",
    "dicts": "dict_keys_to_array dict_values_to_array exist_key get_values_by_key sort_by_value "
    "key_index humanize",
    "buttons": "tools_make_button_str_checker tools_check_user_input",
    "dates": "addDays addMonth addYear addMinutes time_interval convert_datetime weekday_date "
    "month_date birthdate get_datetime current_date_rus date_rus",
    "variables": "get_client_var set_client_var get_client_vars set_client_vars",
    "core": "int len",
}
ALIASES = {
    "add_days": "addDays",
    "add_month": "addMonth",
    "add_year": "addYear",
    "add_minutes": "addMinutes",
}
LIBRARY = [
    fn for fn in REGISTRY.functions() if fn.module in SALEBOT_FUNCTIONS and fn.module != "core"
]


@pytest.mark.parametrize(("module", "names"), sorted(SALEBOT_FUNCTIONS.items()))
def test_every_salebot_function_is_registered_in_its_module(module: str, names: str) -> None:
    for name in names.split():
        fn = REGISTRY.get(name)
        assert fn is not None, name
        assert fn.name == name
        assert fn.module == module


def test_snake_case_aliases_are_the_same_function() -> None:
    for alias, name in ALIASES.items():
        assert REGISTRY.get(alias) is REGISTRY.get(name)


@pytest.mark.parametrize("fn", LIBRARY, ids=lambda fn: fn.name)
def test_every_function_has_a_one_line_doc(fn: Builtin) -> None:
    assert fn.doc.endswith("."), fn.doc
    assert "\n" not in fn.doc


@pytest.mark.parametrize(
    "fn", [f for f in LIBRARY if f.max_args is not None], ids=lambda fn: fn.name
)
def test_too_many_arguments_are_reported_at_the_call(fn: Builtin) -> None:
    assert fn.max_args is not None
    args = ", ".join(["1"] * (fn.max_args + 1))
    error = error_of(f"{fn.name}({args})", kind=ParseError)
    assert error.message.startswith(f"{fn.name}() takes ")
    assert error.message.endswith(f"got {fn.max_args + 1} (1 too many)")


@pytest.mark.parametrize("fn", [f for f in LIBRARY if f.min_args > 0], ids=lambda fn: fn.name)
def test_too_few_arguments_are_reported_at_the_call(fn: Builtin) -> None:
    args = ", ".join(["1"] * (fn.min_args - 1))
    error = error_of(f"{fn.name}({args})", kind=ParseError)
    assert error.message.startswith(f"{fn.name}() takes ")
    assert f"missing '{fn.params[fn.min_args - 1].name}'" in error.message


def test_an_alias_reports_with_its_function() -> None:
    error = error_of("add_days('01.01.2021')", kind=ParseError)
    assert error.message == "addDays() takes 2 arguments, got 1 (missing 'days')"
