"""``botlang graph``: the flow as Mermaid, Graphviz DOT and SVG text.

Every example is drawn in every format: the DOT text is read back by pydot (and by
Graphviz's own ``dot`` where it is installed), the SVG is parsed as XML. The Mermaid text
of every example is parsed by Mermaid itself in the browser tests (tests/studio).
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pydot
import pytest

from botlang.cli import main
from botlang.flow import parse_flow
from botlang.tools.graph import (
    GraphvizMissing,
    build_graph,
    dot_program,
    mermaid_text,
    to_dot,
    to_mermaid,
    to_svg,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*/*.bot"))
SVG = "{http://www.w3.org/2000/svg}"
# pydot still calls pyparsing's old camelCase names
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pydot")

SHAPES = """\
bot "Формы и метки"

block start "Приветствие"
  message: Купить или позвонить?
  -> buy
    exact: Купить; купить
    button: yes
  -> call
    contains: позвон
    priority: 20
  -> start
    unless: ?

close_deal buy "Заявка"
  message: Заявка #{order_id}
  -> a
    delay: 0

block call "Звонок"
  message: Соединяю
  -> start
    on: callback
    exact: busy
    once: yes
  -> ask
    save: client.имя

block ask
  message: Имя?

nostate a "Петля"
  message: A
  -> b
    delay: 0

block b
  message: B
  -> a
    delay: 0

block lost "Забытый блок"
  message: никто сюда не попадёт

quick faq "Вопрос"
  contains: доставк
  message: Доставка бесплатная.

any -> start
  new_client: yes
"""


def require_dot() -> str:
    found = dot_program()
    if found is None:
        reason = "Graphviz's dot is not installed (apt install graphviz)"
        if os.environ.get("BOTLANG_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and BOTLANG_REQUIRE_BROWSER=1 requires it")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def shapes_graph():
    return build_graph(parse_flow(SHAPES, "shapes.bot"))


def test_blocks_show_their_kind_and_title(shapes_graph) -> None:
    nodes = {node.block: node for node in shapes_graph.nodes}
    assert nodes["start"].label_lines == ["Приветствие", "start · block"]
    assert nodes["buy"].label_lines == ["Заявка", "buy · close_deal"]
    assert nodes["a"].label_lines == ["Петля", "a · nostate"]
    assert nodes["faq"].label_lines == ["Вопрос", "faq · quick"]
    assert nodes["ask"].label_lines == ["ask", "ask · block"]  # no title: the id
    text = to_mermaid(shapes_graph)
    assert 'b_buy[["Заявка<br/>buy · close_deal"]]' in text
    assert 'b_a("Петля<br/>a · nostate")' in text
    assert 'b_faq{{"Вопрос<br/>faq · quick"}}' in text
    assert 'b_start["Приветствие<br/>start · block"]' in text


def test_arrows_show_condition_priority_timer_and_button(shapes_graph) -> None:
    labels = {(e.source, e.target, e.label) for e in shapes_graph.edges}
    assert ("b_start", "b_buy", ("exact: Купить; купить", "button")) in labels
    assert ("b_start", "b_call", ("contains: позвон", "priority: 20")) in labels
    assert ("b_start", "b_start", ("unless: ?",)) in labels
    assert ("b_buy", "b_a", ("delay: 0",)) in labels
    assert ("b_call", "b_start", ("on: callback", "exact: busy", "once")) in labels
    assert ("b_call", "b_ask", ("save: client.имя",)) in labels
    assert ("any", "b_start", ("new client",)) in labels
    assert ("any", "b_faq", ("contains: доставк",)) in labels
    styles = {(e.source, e.target): e.style for e in shapes_graph.edges}
    assert styles[("any", "b_start")] == "start"
    assert styles[("any", "b_faq")] == "quick"
    assert styles[("b_call", "b_start")] == "callback"
    text = to_mermaid(shapes_graph)
    assert 'any ==>|"new client"| b_start' in text
    assert 'any -.->|"contains: доставк"| b_faq' in text
    assert 'b_start -->|"exact: Купить; купить<br/>button"| b_buy' in text


def test_unreachable_blocks_and_exitless_loops_are_marked(shapes_graph) -> None:
    nodes = {node.block: node for node in shapes_graph.nodes}
    assert nodes["lost"].unreachable
    assert not any(n.unreachable for b, n in nodes.items() if b != "lost")
    assert {b for b, n in nodes.items() if n.in_loop} == {"a", "b"}
    looped = {(e.source, e.target) for e in shapes_graph.edges if e.in_loop}
    assert looped == {("b_a", "b_b"), ("b_b", "b_a")}
    mermaid = to_mermaid(shapes_graph)
    assert "class b_lost kind_block,unreachable" in mermaid
    assert "class b_a kind_nostate,exitless_loop" in mermaid
    assert mermaid.count("loop without an exit") == 2
    dot = to_dot(shapes_graph)
    assert dot.count("loop without an exit") == 2
    assert '"Забытый блок\\nlost · block\\nunreachable"' in dot


def test_the_marks_are_the_checkers_own_findings() -> None:
    """The diagram marks what ``botlang check`` warns about, from one implementation."""
    flow = parse_flow(SHAPES, "shapes.bot")
    warned = {(w.code, w.line) for w in flow.warnings}
    graph = build_graph(flow)
    for node in graph.nodes:
        if node.block is not None:
            assert node.unreachable == (("unreachable", node.line) in warned)
    loop_lines = {line for code, line in warned if code == "loop"}
    assert loop_lines and loop_lines <= {e.arrow.line for e in graph.edges if e.in_loop}


def test_a_flow_with_nothing_to_start_it_marks_nothing_unreachable() -> None:
    flow = parse_flow("block a\n  message: A\n  -> b\nblock b\n  message: B\n", "x.bot")
    assert not any(node.unreachable for node in build_graph(flow).nodes)


def test_labels_with_quotes_and_mermaid_characters_are_escaped() -> None:
    source = (
        "bot: Бот #1 <тест>\n"
        'block start: Он сказал "да" | #2\n'
        "  message: x\n"
        "  -> start\n"
        "    regex: ^(a|b)<c>$\n"
        "any -> start\n"
        "  new_client: yes\n"
    )
    graph = build_graph(parse_flow(source, "q.bot"))
    text = to_mermaid(graph)
    start_line = next(line for line in text.splitlines() if line.strip().startswith("b_start["))
    assert '"' not in start_line.split('["', 1)[1].rsplit('"]', 1)[0]
    assert "#34;" in start_line and "#124;" in start_line and "#35;" in start_line
    assert "regex: ^(a#124;b)#60;c#62;$" in text
    assert mermaid_text('a"b') == "a#34;b"
    parsed = pydot.graph_from_dot_data(to_dot(graph))
    assert parsed is not None
    labels = [n.get("label") for n in parsed[0].get_nodes() if n.get_name() == '"start"']
    assert labels == ['"Он сказал \\"да\\" | #2\\nstart · block"']


def test_block_ids_that_mermaid_cannot_take_get_safe_keys() -> None:
    source = (
        "block старт\n  message: a\n  -> end\n    exact: x\n"
        "block end\n  message: b\nany -> старт\n  new_client: yes\n"
    )
    graph = build_graph(parse_flow(source, "ids.bot"))
    assert graph.keys == {"старт": "n0", "end": "b_end"}
    assert "n0 -->" in to_mermaid(graph)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_draws_as_dot_that_parses(path: Path) -> None:
    flow = parse_flow(path.read_text(encoding="utf-8"), str(path))
    graph = build_graph(flow)
    dot = to_dot(graph)
    parsed = pydot.graph_from_dot_data(dot)
    assert parsed is not None and len(parsed) == 1
    names = {n.get_name().strip('"') for n in parsed[0].get_nodes()}
    assert set(flow.blocks) <= names
    assert len(parsed[0].get_edges()) == len(graph.edges) == len(flow.arrows())
    mermaid = to_mermaid(graph)
    assert mermaid.count(" --> ") + mermaid.count(" -->|") + mermaid.count(" ==>") + (
        mermaid.count(" -.->")
    ) == len(graph.edges)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_draws_as_valid_svg(path: Path) -> None:
    require_dot()
    flow = parse_flow(path.read_text(encoding="utf-8"), str(path))
    svg = to_svg(build_graph(flow))
    root = ElementTree.fromstring(svg.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    ids = {element.get("id") for element in root.iter(f"{SVG}g")}
    assert {f"block-{block}" for block in flow.blocks} <= ids


def test_svg_without_graphviz_says_what_to_install(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no dot on it
    graph = build_graph(parse_flow(SHAPES, "shapes.bot"))
    with pytest.raises(GraphvizMissing, match="apt install graphviz"):
        to_svg(graph)


def test_cli_writes_each_format(tmp_path, capsys) -> None:
    path = tmp_path / "shapes.bot"
    path.write_text(SHAPES, encoding="utf-8")
    assert main(["graph", str(path)]) == 0
    assert capsys.readouterr().out.startswith('---\ntitle: "Формы и метки"\n---\nflowchart TD\n')
    assert main(["graph", str(path), "--format", "dot"]) == 0
    assert capsys.readouterr().out.startswith('digraph "Формы и метки" {')
    out = tmp_path / "shapes.gv"
    assert main(["graph", str(path), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("digraph")


def test_cli_svg_from_the_output_suffix(tmp_path) -> None:
    require_dot()
    path = tmp_path / "shapes.bot"
    path.write_text(SHAPES, encoding="utf-8")
    out = tmp_path / "shapes.svg"
    assert main(["graph", str(path), "-o", str(out)]) == 0
    ElementTree.parse(out)


def test_cli_without_graphviz_fails_clearly(tmp_path) -> None:
    path = tmp_path / "shapes.bot"
    path.write_text(SHAPES, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "botlang", "graph", str(path), "--format", "svg"],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(tmp_path)},
        timeout=120,
    )
    assert done.returncode == 1
    assert "SVG needs Graphviz's 'dot' program" in done.stderr
    assert "--format mermaid" in done.stderr
    assert done.stdout == ""


def test_cli_reports_a_broken_flow_with_its_place(tmp_path, capsys) -> None:
    path = tmp_path / "broken.bot"
    path.write_text("block start\n  message: hi\n  -> nowhere\n", encoding="utf-8")
    assert main(["graph", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:3:" in err
    assert "arrow to a block that does not exist: 'nowhere'" in err
    assert "^" in err
