"""Client text is never code: a nested template's inside only ever names a variable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import botlang
from botlang import ParseError
from botlang.core import compiler
from botlang.flow import Bot
from botlang.store import Store, open_store
from botlang.telephony import RecordingTelephony

MENU = """bot "Меню"

any -> start
  new_client: yes

block start "Цены"
  calculator:
    price_tea = 100
    price_coffee = 150
  message: Выберите напиток
  -> price
    regex: .

block price "Цена"
  message: Цена: #{price_#{question}}
  -> price
    regex: .
"""

ECHO = """bot "Эхо"

any -> start
  new_client: yes

block start "Эхо"
  message: Вы написали: #{question}
  -> start
    regex: .
"""


@pytest.fixture
def store() -> Iterator[Store]:
    opened = open_store("memory://")
    yield opened
    opened.close()


def conversation(store: Store, source: str, *texts: str, **options: Any) -> list[list[str]]:
    client = store.create_client(client_type=6, phone="79004443322", messenger="whatsapp")
    bot = Bot.from_source(source, "menu.bot", **options)
    return [bot.handle_message(store, client.client_id, text).texts for text in texts]


def test_nested_template_does_not_evaluate_client_text_as_an_expression() -> None:
    assert botlang.render("#{a#{q}}", {"a": 1, "q": "+len('pwned')"}) == ""


def test_nested_template_looks_up_the_variable_it_names() -> None:
    assert botlang.render("#{q#{i}}", {"q2": "second", "i": 2}) == "second"


def test_nested_template_with_a_cyrillic_name() -> None:
    assert botlang.render("#{цена_#{x}}", {"цена_чай": 90, "x": "чай"}) == "90"


def test_nested_template_with_spaces_names_nothing() -> None:
    assert botlang.render("#{price_#{q}}", {"price_a b": 1, "q": "a b"}) == ""


def test_nested_template_cannot_index() -> None:
    assert botlang.render("#{#{q}}", {"a": [1, 2], "q": "a[0]"}) == ""


def test_nested_template_cannot_concatenate() -> None:
    assert botlang.render("#{#{q}}", {"a": "x", "q": "a + a"}) == ""


def test_nested_template_cannot_call_a_builtin() -> None:
    assert botlang.render("#{#{q}}", {"q": "len('abc')"}) == ""


def test_a_value_hole_keeps_client_text_as_data() -> None:
    attack = 'get_client_var("1","secret")'
    assert botlang.render("#{len(#{q})}", {"q": attack}) == str(len(attack))
    assert botlang.render("#{#{q} + '!'}", {"q": attack}) == attack + "!"


def test_a_value_hole_is_salebots_documented_form() -> None:
    assert botlang.render("#{floor(#{Y})} #{int(#{Y})}", {"Y": 5.822}) == "5 5"


def test_a_name_inside_an_expression_is_looked_up() -> None:
    assert botlang.render("#{price_#{q} + 1}", {"price_tea": 100, "q": "tea"}) == "101"
    assert botlang.render("#{price_#{q} + 1}", {"price_tea": 100, "q": "t+1"}) == "1"


def test_nested_template_name_starting_with_a_digit_names_nothing() -> None:
    assert botlang.render("#{#{q}}", {"1abc": "x", "q": "1abc"}) == ""


def test_nested_template_keyword_is_just_an_unset_name() -> None:
    assert botlang.render("#{#{q}}", {"q": "None"}) == ""
    assert botlang.render("#{#{q}}", {"q": "True"}) == ""


def test_nested_template_name_over_the_name_limit_names_nothing() -> None:
    name = "a" * 600
    assert botlang.render("#{#{q}}", {name: "x", "q": name}) == ""


def test_nested_template_too_deep_is_a_clean_error() -> None:
    with pytest.raises(ParseError, match="nested too deeply"):
        botlang.render("#{" * 150 + "a" + "}" * 150)


def test_client_text_is_never_compiled_or_cached() -> None:
    template = botlang.core.compiler.compile_template("#{price_#{q}}")
    before = compiler._compile_expression_cached.cache_info().currsize
    for n in range(300):
        template.render({"q": f"tea+{n}"})
    assert compiler._compile_expression_cached.cache_info().currsize == before


def test_flow_menu_lookup_shows_the_price_of_a_name(store: Store) -> None:
    answers = conversation(store, MENU, "привет", "tea", "coffee")
    assert answers[1:] == [["Цена: 100"], ["Цена: 150"]]


def test_flow_menu_lookup_does_not_read_another_clients_variable(store: Store) -> None:
    other = store.create_client(client_type=6, phone="79005556677", messenger="whatsapp")
    store.set_client_var(other.client_id, "secret", "hunter2")
    attack = f'tea+get_client_var("{other.client_id}","secret")'
    answers = conversation(store, MENU, "привет", attack)
    assert answers[1] == ["Цена: "]
    assert "hunter2" not in str(answers)


def test_flow_menu_lookup_does_not_overwrite_another_clients_variable(store: Store) -> None:
    other = store.create_client(client_type=6, phone="79005556677", messenger="whatsapp")
    store.set_client_var(other.client_id, "balance", 10)
    conversation(store, MENU, "привет", f'tea+set_client_var("{other.client_id}","balance",0)')
    assert store.get_client_var(other.client_id, "balance") == 10


def test_flow_menu_lookup_does_not_place_a_call_the_client_chose(store: Store) -> None:
    telephony = RecordingTelephony()
    conversation(
        store, MENU, "привет", 'tea+mango_employee_call("219","79001112233")', telephony=telephony
    )
    assert telephony.calls == []


def test_template_syntax_in_a_message_is_shown_as_it_is(store: Store) -> None:
    answers = conversation(store, ECHO, "привет", "#{client_id}", "#{len('x')}")
    assert answers[1:] == [["Вы написали: #{client_id}"], ["Вы написали: #{len('x')}"]]


def test_quotes_and_braces_in_client_text_are_plain_text() -> None:
    tricky = "}'\"#{{"
    assert botlang.render("[#{q}]", {"q": tricky}) == f"[{tricky}]"
