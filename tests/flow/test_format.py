"""The .bot format: every construct, and every mistake reported at its line and column."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from botlang.flow import (
    FlowError,
    MatchMode,
    Trigger,
    check_flow_file,
    check_flow_source,
    load_flow,
    parse_flow,
)


def flow_text(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def found(text: str) -> list[tuple[str, int, int, str]]:
    return [
        (d.severity, d.line, d.column, d.message)
        for d in check_flow_source(flow_text(text), "t.bot")
    ]


def only(text: str) -> tuple[str, int, int, str]:
    problems = found(text)
    assert len(problems) == 1, problems
    return problems[0]


FULL = """
    // A comment line.
    bot "Every construct"

    constants:
      manager = "219"
      limit = 2 + 3

    block start "Приветствие"
      calculator:
        client.visits = visits + 1
        /* a calculator comment */
        greeting = "Hi"
      message:
        #{greeting}, visit #{visits}!

          indented line kept
      -> ask
        contains: да; ок\\; ладно
        priority: 20
      -> help
        regex: ^\\?$
      -> near
        fuzzy: здравствуйте
      -> exact_one
        exact: Один; Два
        if: visits > 1
      -> start
        on: message
        priority: 1

    block ask: Вопрос
      calculator: answer = question
      message: Ask #{answer}
      -> done
        on: callback
        exact: answered

    block help
    block near
    block exact_one

    block done "Готово"
      -> start
        if: manager == "219"

    any -> help
      exact: /help
      priority: 50

    any -> done
      on: callback
    """


def test_every_construct_is_read() -> None:
    flow = parse_flow(flow_text(FULL), "full.bot")
    assert flow.title == "Every construct"
    assert flow.constants == {"manager": "219", "limit": 5}
    assert list(flow.blocks) == ["start", "ask", "help", "near", "exact_one", "done"]
    assert flow.entry == "start"
    start = flow.blocks["start"]
    assert start.title == "Приветствие"
    assert (start.line, start.column) == (8, 7)
    assert start.calculator is not None and start.calculator.statement_count == 2
    assert start.message is not None
    assert start.message.text == "#{greeting}, visit #{visits}!\n\n  indented line kept"
    assert [a.target for a in start.arrows] == ["ask", "help", "near", "exact_one", "start"]
    ask_arrow, help_arrow, near, exact_one, loop = start.arrows
    assert ask_arrow.condition is not None
    assert ask_arrow.condition.mode is MatchMode.CONTAINS
    assert ask_arrow.condition.alternatives == ("да", "ок; ладно")
    assert ask_arrow.priority == 20 and ask_arrow.trigger is Trigger.MESSAGE
    assert help_arrow.condition is not None and help_arrow.condition.mode is MatchMode.REGEX
    assert help_arrow.condition.alternatives == ("^\\?$",)
    assert near.condition is not None and near.condition.mode is MatchMode.FUZZY
    assert exact_one.comparison_text == "visits > 1" and exact_one.priority == 10
    assert loop.condition is None and loop.trigger is Trigger.MESSAGE and loop.priority == 1
    ask = flow.blocks["ask"]
    assert ask.title == "Вопрос"
    assert ask.message is not None and ask.message.text == "Ask #{answer}"
    assert ask.arrows[0].trigger is Trigger.CALLBACK
    done = flow.blocks["done"]
    assert done.arrows[0].trigger is Trigger.MESSAGE and done.arrows[0].waits
    assert [a.target for a in flow.starting_arrows] == ["help", "done"]
    assert flow.starting_arrows[0].is_starting and flow.starting_arrows[0].priority == 50
    assert flow.starting_arrows[1].trigger is Trigger.CALLBACK
    assert flow.warnings == []


def test_alternative_columns_are_exact() -> None:
    flow = parse_flow("block a\n  -> a\n    exact:  один ;два;  три\n")
    condition = flow.blocks["a"].arrows[0].condition
    assert condition is not None
    assert condition.alternatives == ("один", "два", "три")
    assert condition.columns == (13, 19, 25)


def test_windows_line_endings_and_byte_order_mark() -> None:
    text = "\ufeffblock a\r\n  message:\r\n    Hi\r\n  -> a\r\n    exact: x\r\n"
    flow = parse_flow(text, "crlf.bot")
    assert flow.blocks["a"].message is not None
    assert flow.blocks["a"].message.text == "Hi"


def test_blank_lines_and_comments_between_items() -> None:
    flow = parse_flow(
        flow_text(
            """
            block a

              // comment inside a block
              message: Hi

            // comment at column 1 inside a block
              -> a
                // comment among settings
                exact: x
            """
        )
    )
    assert flow.blocks["a"].message is not None
    assert flow.blocks["a"].arrows[0].condition is not None


def test_comment_marker_inside_message_is_text() -> None:
    flow = parse_flow("block a\n  message:\n    see https://example.com\n    // not a comment\n")
    assert flow.blocks["a"].message is not None
    assert flow.blocks["a"].message.text == "see https://example.com\n// not a comment"


def test_an_arrow_without_a_delay_waits_and_delay_0_is_immediate() -> None:
    # Salebot: an arrow without a delay waits for the client's message, with or without a
    # condition; an immediate transition is a 0-second timer.
    flow = parse_flow(
        "block a\n  -> b\n  -> b\n    exact: x\n  -> b\n    delay: 0\n"
        "block b\n  -> a\n    if: 1 == 1\n  -> a\n    if: 1 == 1\n    delay: 0 s\n"
    )
    bare, text, at_once = flow.blocks["a"].arrows
    assert bare.waits and bare.trigger is Trigger.MESSAGE and text.waits
    assert at_once.immediate and at_once.delay is not None and at_once.delay.seconds == 0
    compare, compare_at_once = flow.blocks["b"].arrows
    assert compare.waits and compare_at_once.immediate


def test_load_flow_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "bot.bot"
    path.write_text("block only\n  message: hi\n", encoding="utf-8")
    flow = load_flow(path)
    assert flow.filename == str(path)
    assert check_flow_file(path) == []


# -- mistakes ------------------------------------------------------------------------------

ERRORS = [
    # (source, line, column, words in the message)
    ("block a\n  -> nowhere\n", 2, 6, "does not exist: 'nowhere'"),
    ("block start\n  -> strat\n", 2, 6, "did you mean 'start'?"),
    ("block a\nblock a\n", 2, 7, "already defined on line 1"),
    ("  block a\n", 1, 3, "unexpected indentation"),
    ("blok a\n", 1, 1, "did you mean 'block'?"),
    ("-> a\nblock a\n", 1, 1, "'any -> BLOCK'"),
    ("block\n", 1, 6, "expected the block's id"),
    ("block a.b\n", 1, 8, "'.' cannot be part of it"),
    ("block a\n  mesage: hi\n", 2, 3, "did you mean 'message'?"),
    ("block a\n  calc: x = 1\n", 2, 3, "did you mean 'calculator'?"),
    ("block a\n  exact: да\n", 2, 3, "indented under its arrow"),
    ("block a\n  message: hi\n  message: ho\n", 3, 3, "already has a 'message:' (line 2)"),
    ("block a\n  message: hi\n    more\n", 3, 5, "on its own line and on the lines below"),
    ("block a\n  message: hi\n block b\n", 3, 2, "indented less than the line 2"),
    ("block a\n  message: hi\n  what is this\n", 3, 3, "expected 'calculator:', 'message:'"),
    ("block a\n  ->\n", 2, 5, "expected the target block's id"),
    ("block a\n  -> a exact: x\n", 2, 8, "unexpected text after the target block"),
    ("block a\n  -> a\n    keywords: x\n", 3, 5, "did you mean 'contains'?"),
    ("block a\n  -> a\n    exact: x\n    contains: y\n", 4, 5, "already has a text condition"),
    ("block a\n  -> a\n    priority: 1\n    priority: 2\n", 4, 5, "already has a 'priority:'"),
    ("block a\n  -> a\n    priority: high\n", 3, 15, "whole number"),
    ("block a\n  -> a\n    on: event\n", 3, 9, "did you mean 'callback'?"),
    ("block a\n  -> a\n    exact: ;  ;\n", 3, 12, "needs the text to match"),
    ("block a\n  -> a\n    if:\n", 3, 8, "'if:' needs a condition"),
    ("block a\n  -> a\n    exact: x\n      deeper\n", 4, 7, "indented alike"),
    ("block a\n  -> a\n    just text\n", 3, 5, "expected an arrow setting"),
    ("block a\n  -> a\n    on: now\n", 3, 9, "is written 'delay: 0'"),
    ("block a\n  -> a\n    delay: 5 min\n", 3, 12, "timer arrows (a delay above 0) are not"),
    ("block a\n  -> a\n    delay: soon\n", 3, 12, "'delay:' is a whole number and a unit"),
    ("block a\n  -> a\n    save: x\n    delay: 0\n", 4, 5, "cannot have a delay"),
    ("block a\n  -> a\n    save: question\n", 3, 11, "system variable"),
    ("block a\n  -> a\n    save: two words\n", 3, 11, "one variable name"),
    ("block a\n  -> a\n    save: deal.x.y\n", 3, 11, "one variable name"),
    ("block a\n  -> a\n    save: scope.x\n", 3, 11, "unknown scope 'scope'"),
    ("block a\n  -> a\n    once: maybe\n", 3, 11, "yes or no"),
    ("block a\n  -> a\n    new_client: yes\n", 3, 5, "only a start condition takes it"),
    ("block a\n  -> a\n    line: 1\n", 3, 5, "add 'button: yes'"),
    ("block a\n  -> a\n    button: yes\n", 2, 3, "needs an exact:, contains: or fuzzy:"),
    ("block a\n  -> a\n    contains: (a|b\n", 3, 15, "this '(' is never closed"),
    ("block a\n  -> a\n    contains: a) b\n", 3, 16, "')' closes no '('"),
    ("block a\n  -> a\n    contains: a|b\n", 3, 16, "'|' separates the options"),
    ("block a\n  -> a\n    unless:\n", 3, 12, "'unless:' needs the text"),
    ("block a\nany -> a\n  delay: 0\n", 3, 3, "not a setting of a start condition"),
    ("block a\n  exact: x\n", 2, 3, "indented under its arrow"),
    ("quick q\n  delay: 0\n", 2, 3, "a quick answer's condition takes"),
    ("nostat a\n", 1, 1, "did you mean 'nostate'?"),
    ("close a\n", 1, 1, "did you mean 'close_deal'?"),
    ("block a\n  keyboard: big\n", 2, 13, "'keyboard:' is reply"),
    ("block a\n  arrow_buttons: maybe\n", 2, 18, "yes or no"),
    ("block a\n  buttons: Да\n", 2, 12, "write each button on its own line"),
    ("block a\n  buttons:\n    Да\n", 3, 5, "a button is written '- LABEL'"),
    ("block a\n  buttons:\n    -\n", 3, 6, "needs the button's label"),
    ("block a\n  buttons:\n    - Да\n      href: x\n", 4, 7, "did you mean 'url'?"),
    ("block a\n  buttons:\n    - Да\n      type: sms\n", 4, 13, "type is reply, inline"),
    ("block a\n  buttons:\n    - Да\n      line: one\n", 4, 13, "whole number from 0"),
    ('block a\n  buttons:\n    - Скажи "да"\n', 3, 13, "cannot hold"),
    ("block a\n  buttons:\n    - " + "д" * 33 + "\n", 3, 7, "the limit is 32"),
    (
        "block a\n  buttons:\n    - x\n      callback: " + "я" * 33 + "\n",
        4,
        17,
        "the limit is 64",
    ),
    ("block a\n  buttons:\n    - x\n      url: u\n      callback: c\n", 4, 12, "not both"),
    ("block a\n  buttons:\n    - x\n      type: phone\n      url: u\n", 4, 13, "no url"),
    ("block a\n  buttons:\n    - x\n      type: web_app\n", 4, 13, "needs its 'url:'"),
    ('block a\n  buttons: [{"text": "Да",}]\n', 2, 27, "not valid JSON"),
    ('block a\n  buttons: [{"label": "Да"}]\n', 2, 13, "unknown button key 'label'"),
    ('block a\n  buttons: [{"type": "reply"}]\n', 2, 13, 'needs "text"'),
    ('block a\n  buttons: [{"text": "x", "line": -1}]\n', 2, 13, "whole number"),
    ("block a\n  buttons: [1]\n", 2, 13, "a JSON object"),
    ("block a\n  buttons: {}\n", 2, 12, "a JSON list"),
    (
        "block a\n  keyboard: inline\n  -> a\n    exact: Да\n    button: yes\n",
        3,
        3,
        "this block's keyboard is inline",
    ),
    (
        "block a\n  buttons:\n    - a\n      type: inline\n  -> a\n    exact: b\n    button: yes\n",
        5,
        3,
        "mixes inline buttons and keyboard",
    ),
    (
        "block a\n  buttons:\n" + "".join(f"    - {n}\n      line: 0\n" for n in range(13)),
        27,
        7,
        "more than 12 buttons on one row",
    ),
    ("block a\n  -> a\n    regex: ok; (unclosed\n", 3, 16, "bad regular expression"),
    ("block a\n  -> a\n    if: x ==\n", 3, 13, "ends too early"),
    ("block a\n  -> a\n    if: nosuch(1)\n", 3, 9, "unknown function 'nosuch'"),
    ("block a\n  calculator:\n    x = 1\n    y = (2 +\n", 4, 9, "never closed"),
    ("block a\n  calculator:\n    x = 1\n    y = 2 +* 3\n", 4, 12, "unexpected '*'"),
    ("block a\n  calculator:\n    x = lenn(1)\n", 3, 9, "did you mean len()?"),
    ("block a\n  calculator:\n    question = 1\n", 3, 5, "system variable"),
    ("block a\n  calculator:\n    next_day = 1\n", 3, 5, "system variable"),
    ("block a\n  calculator: x = 1 +\n", 2, 22, "ends too early"),
    ("block a\n  message:\n    one\n    two #{1 +}\n", 4, 14, "ends too early"),
    ("block a\n  message: hi #{nosuch()}\n", 2, 17, "unknown function 'nosuch'"),
    ("block a\n  message:\n      one\n    two #{x ==}\n", 4, 15, "ends too early"),
    ("constants:\n  x 1\nblock a\n", 2, 3, "name = value"),
    ("constants:\n  x =\nblock a\n", 2, 6, "needs a value"),
    ("constants:\n  x = 1\n  x = 2\nblock a\n", 3, 3, "already defined on line 2"),
    ("constants:\n  phone = 1\nblock a\n", 2, 3, "system variable"),
    ("constants:\n  x = 1 / 0\nblock a\n", 2, 9, "division by zero"),
    ("constants: x = 1\nblock a\n", 1, 1, "'constants:' alone"),
    ('bot "a"\nbot "b"\nblock a\n', 2, 1, "already given on line 1"),
    ('bot "a"\n  what\nblock a\n', 2, 3, "has nothing under it"),
    ("any a\nblock a\n", 1, 5, "'any -> BLOCK'"),
    ("any -> nowhere\nblock a\n", 1, 8, "does not exist"),
    ("// only a comment\n", 1, 1, "no blocks"),
]


@pytest.mark.parametrize(("source", "line", "column", "words"), ERRORS)
def test_each_mistake_is_reported_at_its_position(
    source: str, line: int, column: int, words: str
) -> None:
    errors = [d for d in check_flow_source(source, "bad.bot") if d.severity == "error"]
    assert errors, f"no error for {source!r}"
    first = errors[0]
    assert (first.line, first.column) == (line, column), first.format()
    assert words in first.message, first.message
    assert first.filename == "bad.bot"
    with pytest.raises(FlowError) as info:
        parse_flow(source, "bad.bot")
    assert (info.value.line, info.value.column) == (line, column)


def test_flow_error_shows_every_error_with_a_caret() -> None:
    source = "block a\n  -> b\n  -> c\n"
    with pytest.raises(FlowError) as info:
        parse_flow(source, "two.bot")
    text = str(info.value)
    assert text.splitlines() == [
        "two.bot:2:6: arrow to a block that does not exist: 'b'",
        "      -> b",
        "         ^",
        "two.bot:3:6: arrow to a block that does not exist: 'c'",
        "      -> c",
        "         ^",
    ]
    assert [d.line for d in info.value.diagnostics] == [2, 3]


def test_diagnostic_shows_the_flow_line_not_the_calculator_copy() -> None:
    (diagnostic,) = check_flow_source("block a\n  calculator: x = lenn(1)\n", "f.bot")
    assert (diagnostic.line, diagnostic.column) == (2, 19)
    assert diagnostic.source_line == "  calculator: x = lenn(1)"
    assert diagnostic.format().splitlines()[-2:] == [
        "      calculator: x = lenn(1)",
        "                      ^",
    ]


def test_unreachable_block_is_a_warning() -> None:
    assert only(
        """
        block a
          message: hi
        block lonely
          message: nobody comes here
        any -> a
          new_client: yes
        """
    ) == (
        "warning",
        3,
        7,
        "block 'lonely' is unreachable: no start condition ('any ->'), quick answer or "
        "arrow from those leads to it",
    )
    flow = parse_flow("block a\nblock lonely\nany -> a\n  exact: x\n")
    assert [w.code for w in flow.warnings] == ["unreachable"]


def test_blocks_reached_through_start_conditions_quick_answers_and_chains_are_reachable() -> None:
    assert (
        found(
            """
        block b
          message: b
          -> c
            exact: x
        block c
          message: c
          -> d
        nostate d
          message: d
        quick q
          contains: цена
          message: q
          -> b
            delay: 0
        any -> b
          new_client: yes
        """
        )
        == []
    )


def test_immediate_loop_is_a_warning() -> None:
    problems = found(
        """
        block a
          message: a
          -> b
            delay: 0
        block b
          message: b
          -> a
            delay: 0
        any -> a
          new_client: yes
        """
    )
    assert [(p[0], p[1], p[2]) for p in problems] == [("warning", 7, 3)]
    assert "loop (a -> b -> a)" in problems[0][3]


def test_guarded_immediate_arrows_are_not_a_loop() -> None:
    assert (
        found(
            "block a\n  message: a\n  -> b\n    if: x\n    delay: 0\nblock b\n  message: b\n"
            "  -> a\n    delay: 0\nany -> a\n  new_client: yes\nconstants:\n  x = 1\n"
        )
        == []
    )


def test_literal_text_fallback_is_a_warning_in_a_calculator() -> None:
    severity, line, column, message = only("block a\n  calculator:\n    x = Первичное жилье\n")
    assert (severity, line, column) == ("warning", 3, 9)
    assert "stored as the text" in message


def test_several_calculator_errors_are_all_reported() -> None:
    problems = found(
        """
        block a
          calculator:
            x = lenn(1)
            y = (
        """
    )
    assert [(p[1], p[2]) for p in problems] == [(4, 9)]  # an unclosed bracket stops parsing
    problems = found(
        """
        block a
          calculator:
            x = lenn(1)
            client_id = 2
        """
    )
    assert [(p[1], p[2]) for p in problems] == [(3, 9), (4, 5)]


def test_unreadable_file_is_one_diagnostic(tmp_path: Path) -> None:
    (diagnostic,) = check_flow_file(tmp_path / "missing.bot")
    assert diagnostic.severity == "error" and "cannot read" in diagnostic.message
