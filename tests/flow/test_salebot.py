"""Each rule of Salebot's flows that botlang follows, one test per rule, named for it
(reference: salebot-flows.md §1 concepts, §2 semantics, §2.8 the dispatch order)."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from botlang.flow import FROM_CALLBACK, Bot, ButtonAction, TurnRequest, check_flow_source
from botlang.flow.lint import lint_flow
from botlang.store import Store

from .conftest import new_client

MakeBot = Callable[..., Bot]
GREET = "any -> a\n  new_client: yes\n"


def say(bot: Bot, store: Store, client: str, text: str) -> list[str]:
    return bot.handle_message(store, client, text).texts


def codes(source: str) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in check_flow_source(source, "t.bot")] + [
        (d.code, d.line) for d in _lints(source)
    ]


def _lints(source: str) -> list:  # type: ignore[type-arg]
    from botlang.flow import parse_flow

    return lint_flow(parse_flow(source, "t.bot"))


# -- §2.8 dispatch order ----------------------------------------------------------------------


def test_an_arrow_with_only_a_compare_variable_waits_for_the_message(
    make_bot: MakeBot, memory_store: Store
) -> None:
    # Salebot (VARS): `question <= 1000000` is checked on the client's answer, not at once.
    bot = make_bot(
        "block a\n  message: Бюджет?\n  -> small\n    if: question <= 1000000\n"
        "  -> big\nblock small\n  message: мало\nblock big\n  message: много\n" + GREET
    )
    client = new_client(memory_store)
    assert say(bot, memory_store, client, "привет") == ["Бюджет?"]
    assert say(bot, memory_store, client, "500000") == ["мало"]


def test_quick_answers_come_after_the_blocks_arrows(make_bot: MakeBot, memory_store: Store) -> None:
    # Salebot: «Не состояние с условием» has the lowest priority, after the block's arrows.
    bot = make_bot(
        "block a\n  message: a\n  -> b\n    contains: цена\nblock b\n  message: arrow\n"
        "quick q\n  contains: цена\n  message: quick\n" + GREET
    )
    client = new_client(memory_store)
    say(bot, memory_store, client, "hi")
    assert say(bot, memory_store, client, "цена?") == ["arrow"]
    assert say(bot, memory_store, client, "а цена?") == ["quick"]  # b has no arrow


def test_a_quick_answer_does_not_move_the_client(make_bot: MakeBot, memory_store: Store) -> None:
    bot = make_bot(
        "block a\n  message: a\n  -> b\n    exact: да\nblock b\n  message: b\n"
        "quick faq\n  contains: адрес\n  message: Москва\n" + GREET
    )
    client = new_client(memory_store)
    say(bot, memory_store, client, "hi")
    turn = bot.handle_message(memory_store, client, "ваш адрес?")
    assert turn.texts == ["Москва"] and turn.block == "a" and turn.blocks == ["faq"]
    assert say(bot, memory_store, client, "да") == ["b"]


def test_a_not_state_block_answers_and_the_client_stays(
    make_bot: MakeBot, memory_store: Store
) -> None:
    # Salebot (NOSTATE): the canonical validation error; the client can retry.
    bot = make_bot(
        "block a\n  message: Телефон?\n  -> ok\n    regex: ^\\d{11}$\n  -> error\n"
        "nostate error\n  message: Это не номер\nblock ok\n  message: Спасибо\n" + GREET
    )
    client = new_client(memory_store)
    say(bot, memory_store, client, "hi")
    for _ in range(3):
        turn = bot.handle_message(memory_store, client, "нет")
        assert turn.texts == ["Это не номер"] and turn.block == "a"
    assert say(bot, memory_store, client, "79004443322") == ["Спасибо"]


def test_an_immediate_arrow_leaves_a_not_state_block(
    make_bot: MakeBot, memory_store: Store
) -> None:
    # Salebot (VARS): a quick answer may go on to a block with a 0-second arrow.
    bot = make_bot(
        "block a\n  message: a\nblock b\n  message: b\n"
        "quick restart\n  exact: заново\n  message: ok\n  -> a\n    delay: 0\n" + GREET
    )
    client = new_client(memory_store)
    bot.enter(memory_store, client, "b")
    turn = bot.handle_message(memory_store, client, "заново")
    assert turn.texts == ["ok", "a"] and turn.block == "a"


def test_start_condition_answer_once(make_bot: MakeBot, memory_store: Store) -> None:
    # Salebot B9 "Отвечать один раз": the start condition fires once per client.
    bot = make_bot(
        "block a\n  message: a\nblock promo\n  message: скидка\n"
        "any -> promo\n  exact: промо\n  once: yes\n" + GREET
    )
    client = new_client(memory_store)
    say(bot, memory_store, client, "hi")
    assert say(bot, memory_store, client, "промо") == ["скидка"]
    assert say(bot, memory_store, client, "промо") == []


def test_an_arrow_go_once(make_bot: MakeBot, memory_store: Store) -> None:
    # Salebot A15 "Переходить один раз": taken at most once; the next arrow takes over.
    bot = make_bot(
        "block a\n  message: a\n  -> gift\n    exact: да\n    once: yes\n  -> a\n    exact: да\n"
        "    priority: 1\nblock gift\n  message: подарок\n  -> a\n    delay: 0\n" + GREET
    )
    client = new_client(memory_store)
    say(bot, memory_store, client, "hi")
    assert say(bot, memory_store, client, "да") == ["подарок", "a"]
    assert say(bot, memory_store, client, "да") == ["a"]


def test_minus_words_stop_an_arrow(make_bot: MakeBot, memory_store: Store) -> None:
    # Salebot A8 "Строки, на которые не надо отвечать".
    bot = make_bot(
        "block a\n  message: a\n  -> call\n    contains: звонок\n    unless: не надо; без\n"
        "block call\n  message: звоним\n" + GREET
    )
    client = new_client(memory_store)
    say(bot, memory_store, client, "hi")
    assert say(bot, memory_store, client, "звонок не надо") == []
    assert say(bot, memory_store, client, "нужен звонок") == ["звоним"]


def test_a_bare_compare_variable_is_compared_with_the_condition(
    make_bot: MakeBot, memory_store: Store
) -> None:
    # Salebot A9: condition `1` with compare-variable `client_type` is about the client,
    # not what it wrote.
    bot = make_bot(
        "block a\n  message: a\n  -> telegram\n    exact: 1\n    if: client_type\n"
        "  -> other\nblock telegram\n  message: tg\nblock other\n  message: other\n" + GREET
    )
    telegram = new_client(memory_store, client_type=1, phone="79001110000")
    whatsapp = new_client(memory_store)
    for client in (telegram, whatsapp):
        say(bot, memory_store, client, "hi")
    assert say(bot, memory_store, telegram, "что угодно") == ["tg"]
    assert say(bot, memory_store, whatsapp, "1") == ["other"]


def test_keyword_groups_match_as_in_salebot(make_bot: MakeBot, memory_store: Store) -> None:
    # Salebot A3 (MATCH): `(тар план |тариф) (перейт|подключ|менит|помен)`.
    bot = make_bot(
        "block a\n  message: a\n  -> tariff\n"
        "    contains: (тар план |тариф) (перейт|подключ|менит|помен)\n"
        "block tariff\n  message: тарифы\n" + GREET
    )
    client = new_client(memory_store)
    say(bot, memory_store, client, "hi")
    assert say(bot, memory_store, client, "Как сменить тарифный план") == ["тарифы"]
    bot.enter(memory_store, client, "a")
    assert say(bot, memory_store, client, "какой у вас тариф") == []


def test_data_entry_stores_the_answer_before_the_target(
    make_bot: MakeBot, memory_store: Store
) -> None:
    # Salebot A16 "Пользователь вводит данные", into a client variable.
    bot = make_bot(
        "block a\n  message: Имя?\n  -> b\n    save: client.имя\n"
        "block b\n  message: Привет, #{имя}\n" + GREET
    )
    client = new_client(memory_store)
    say(bot, memory_store, client, "hi")
    assert say(bot, memory_store, client, "Анна") == ["Привет, Анна"]
    assert memory_store.read_variables(client)["client"]["имя"] == "Анна"


def test_phone_is_a_writable_service_variable(make_bot: MakeBot, memory_store: Store) -> None:
    # Salebot V3: the CRM recipe stores the answer into `phone`.
    bot = make_bot(
        "block a\n  message: #{phone}\n  -> b\n    save: phone\n"
        "block b\n  calculator: seen = phone\n  message: #{seen}\n" + GREET
    )
    client = new_client(memory_store)
    assert say(bot, memory_store, client, "hi") == ["79004443322"]
    assert say(bot, memory_store, client, "+7 999 000-11-22") == ["+7 999 000-11-22"]
    assert memory_store.read_variables(client)["deal"]["phone"] == "+7 999 000-11-22"


def test_close_deal_makes_an_order_and_clears_the_deal(
    make_bot: MakeBot, memory_store: Store
) -> None:
    # Salebot B7 «Закрыть сделку»: deal variables become an order, then are deleted;
    # client and project variables stay.
    bot = make_bot(
        "block a\n  calculator:\n    товар = 'диван'\n    client.имя = 'Анна'\n"
        "    project.всего = 1\n  message: a\n  -> done\n    exact: да\n"
        "close_deal done\n  message: №#{order_id}: #{order}; #{товар}\n" + GREET
    )
    client = new_client(memory_store)
    say(bot, memory_store, client, "hi")
    turn = bot.handle_message(memory_store, client, "да")
    assert turn.texts == [f"№{client}-1: товар: диван; диван"]
    (order,) = turn.orders
    assert order.order_id == f"{client}-1" and order.variables == {"товар": "диван"}
    saved = memory_store.read_variables(client)
    assert saved["deal"] == {} and saved["client"] == {"имя": "Анна"}
    assert saved["project"] == {"всего": 1}
    assert turn.to_dict()["orders"][0]["text"] == "товар: диван"


def test_random_variants_in_a_message(make_bot: MakeBot, memory_store: Store) -> None:
    # Salebot M3: `{Привет|Здравствуйте}` sends one of the variants.
    bot = make_bot(
        "block a\n  message: {Привет|Здравствуйте}, #{name}! {a|b|c} {no choice}\n" + GREET,
        rng=random.Random(3),
    )
    seen = set()
    for index in range(20):
        client = new_client(memory_store, phone=f"7900000{index:04d}")
        (text,) = bot.handle_message(memory_store, client, "hi", name="Ян").texts
        greeting, rest = text.split(", Ян! ")
        assert greeting in ("Привет", "Здравствуйте")
        letter, literal = rest.split(" ", 1)
        assert letter in "abc" and literal == "{no choice}"
        seen.add(greeting)
    assert seen == {"Привет", "Здравствуйте"}


# -- §2.1 buttons -----------------------------------------------------------------------------


BUTTONS = """
block a
  message: Выберите
  buttons:
    - Сайт
      url: https://example.com/#{page}
      line: 1
    - Номер
      type: phone
    - Купить
      callback: buy_1
      line: 1
      position: 0
  hint: Напишите 1 — да, 2 — нет
  -> yes
    exact: Да; 1
    button: yes
    line: 0
  -> no
    exact: Нет; 2
    button: yes
    line: 0
  -> bought
    on: callback
    exact: buy_1
block yes
  message: да
block no
  message: нет
block bought
  message: куплено
any -> a
  new_client: yes
"""


def test_buttons_are_laid_out_in_rows(make_bot: MakeBot, memory_store: Store) -> None:
    # Salebot BTN: line and position from 0; without a line, a row of its own.
    bot = make_bot(BUTTONS)
    client = new_client(memory_store)
    memory_store.set_client_var(client, "page", "about")
    (message,) = bot.handle_message(memory_store, client, "hi").messages
    rows = [[b.text for b in row] for row in message.buttons]
    assert rows == [["Да", "Нет"], ["Купить", "Сайт"], ["Номер"]]
    site = message.buttons[1][1]
    assert site.action is ButtonAction.URL and site.url == "https://example.com/about"
    assert message.keyboard == "reply" and message.hint == "Напишите 1 — да, 2 — нет"
    assert message.text_without_buttons() == "Выберите\n\nНапишите 1 — да, 2 — нет"
    assert message.to_dict()["buttons"][1][0] == {
        "text": "Купить",
        "action": "callback",
        "callback": "buy_1",
    }


def test_a_pressed_button_arrives_as_its_label_or_its_callback(
    make_bot: MakeBot, memory_store: Store
) -> None:
    # Salebot type.md: a press is an ordinary message; a callback button sends its text.
    bot = make_bot(BUTTONS)
    client = new_client(memory_store)
    turn = bot.handle_message(memory_store, client, "hi")
    by_label = {b.text: b for b in turn.buttons}
    assert bot.handle(memory_store, client, by_label["Да"].press()).texts == ["да"]
    bot.enter(memory_store, client, "a")
    request = by_label["Купить"].press()
    assert request is not None and request.kind == "event"
    assert request.message_from_outside == FROM_CALLBACK
    assert bot.handle(memory_store, client, request).texts == ["куплено"]
    assert by_label["Сайт"].press() is None  # a link sends nothing
    bot.enter(memory_store, client, "a")
    assert say(bot, memory_store, client, "2") == ["нет"]  # the digit of the hint


def test_the_phone_button_writes_phone(make_bot: MakeBot, memory_store: Store) -> None:
    bot = make_bot(
        "block a\n  message: #{phone}\n  -> a\n    on: message\n  buttons:\n    - Номер\n"
        "      type: phone\n" + GREET
    )
    client = new_client(memory_store)
    bot.handle_message(memory_store, client, "hi")
    turn = bot.handle(memory_store, client, TurnRequest.contact("+7 (911) 222-33-44"))
    assert turn.texts == ["79112223344"]
    assert memory_store.read_variables(client)["client"]["phone"] == "79112223344"


def test_a_message_of_buttons_only(make_bot: MakeBot, memory_store: Store) -> None:
    # Salebot: `#{none}` with buttons sends only the buttons.
    bot = make_bot("block a\n  message: #{none}\n  buttons:\n    - Ок\n" + GREET)
    (message,) = bot.handle_message(memory_store, new_client(memory_store), "hi").messages
    assert message.text == "" and [b.text for b in message.button_list] == ["Ок"]


def test_a_once_arrows_button_goes_when_the_arrow_is_taken(
    make_bot: MakeBot, memory_store: Store
) -> None:
    bot = make_bot(
        "block a\n  message: a\n  -> gift\n    exact: Подарок\n    once: yes\n    button: yes\n"
        "block gift\n  message: держите\n  -> a\n    delay: 0\n" + GREET
    )
    client = new_client(memory_store)
    assert [b.text for b in bot.handle_message(memory_store, client, "hi").buttons] == ["Подарок"]
    turn = bot.handle_message(memory_store, client, "Подарок")
    assert turn.texts == ["держите", "a"] and turn.buttons == []


def test_a_label_rendered_over_the_limit_is_a_located_error(
    make_bot: MakeBot, memory_store: Store
) -> None:
    bot = make_bot("block a\n  message: a\n  buttons:\n    - #{long}\n    - Ок\n" + GREET)
    client = new_client(memory_store)
    memory_store.set_client_var(client, "long", "я" * 40)
    turn = bot.handle_message(memory_store, client, "hi")
    assert [b.text for b in turn.buttons] == ["Ок"]
    (error,) = turn.errors
    assert "the limit is 32" in error.message and (error.line, error.column) == (4, 7)


# -- the checker --------------------------------------------------------------------------------


def test_checker_a_start_condition_without_a_condition() -> None:
    assert ("any-always", 3) in codes("block a\n  message: a\nany -> a\n")


def test_checker_an_arrow_shadowed_by_an_earlier_one() -> None:
    source = (
        "block a\n  message: a\n  -> b\n    contains: да\n  -> c\n    exact: Да конечно\n"
        "  -> b\n  -> c\nblock b\n  message: b\nblock c\n  message: c\n" + GREET
    )
    assert [c for c in codes(source) if c[0] == "shadowed"] == [("shadowed", 5), ("shadowed", 8)]


def test_checker_a_start_condition_shadows_a_blocks_arrow() -> None:
    source = (
        "block a\n  message: a\n  -> b\n    exact: стоп\n    priority: 99\nblock b\n  message: b\n"
        "any -> a\n  contains: стоп\n" + GREET
    )
    found = [d for d in _lints(source) if d.code == "shadowed"]
    assert [(d.line, d.column) for d in found] == [(3, 3)]
    assert "start conditions are tried before" in found[0].message


def test_checker_an_old_style_router_block_left_in_silence() -> None:
    # The old default took an arrow without a text condition at once.
    source = "block a\n  -> b\n    if: x > 1\n  -> b\nblock b\n  message: b\n" + GREET
    found = [d for d in _lints(source) if d.code == "silent-wait"]
    assert [d.line for d in found] == [2, 4]
    assert "write 'delay: 0'" in found[0].message


def test_checker_an_if_about_variables_now_waits() -> None:
    source = "block a\n  message: a\n  -> b\n    if: x > 1\nblock b\n  message: b\n" + GREET
    (found,) = [d for d in _lints(source) if d.code == "waits-for-message"]
    assert found.line == 3 and "'on: message'" in found.message
    explicit = source.replace("    if: x > 1\n", "    if: x > 1\n    on: message\n")
    assert not [d for d in _lints(explicit) if d.code == "waits-for-message"]


def test_checker_no_start_condition_for_new_clients() -> None:
    (found,) = [d for d in _lints("block a\n  message: a\n") if d.code == "new-client"]
    assert found.line == 1 and "new_client: yes" in found.message


def test_checker_arrows_of_a_not_state_block_that_wait() -> None:
    source = (
        "block a\n  message: a\n  -> n\nnostate n\n  message: n\n  -> a\n    exact: x\n" + GREET
    )
    assert [c for c in codes(source) if c[0] == "nostate-arrow"] == [("nostate-arrow", 6)]


def test_checker_a_button_nothing_takes() -> None:
    source = "block a\n  message: a\n  buttons:\n    - Да\n    - Нет\n  -> a\n    exact: да\n"
    assert [c for c in codes(source + GREET) if c[0] == "dead-button"] == [("dead-button", 5)]


def test_checker_no_false_positive_on_none() -> None:
    source = "block a\n  message: #{none}\n  buttons:\n    - Ок\n  -> a\n    exact: ок\n" + GREET
    assert codes(source) == []


@pytest.mark.parametrize(
    ("setting", "code"),
    [("save: x\n    delay: 0", "data-entry"), ("delay: 1 day", "timer")],
)
def test_checker_data_entry_with_a_delay_and_timers(setting: str, code: str) -> None:
    source = f"block a\n  message: a\n  -> a\n    {setting}\n" + GREET
    found = check_flow_source(source, "t.bot")
    assert [(d.code, d.severity) for d in found] == [(code, "error")]
