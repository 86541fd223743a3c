"""A flow as a diagram: Mermaid and Graphviz DOT text, and SVG (``botlang graph FILE.bot``).

:func:`build_graph` turns a loaded :class:`~botlang.flow.model.Flow` into a small neutral
model — one node per block, plus the "any block" node that start conditions and quick
answers leave from, and one edge per arrow — with its marks: blocks no conversation
reaches, and loops of immediate arrows without an exit (both from
:mod:`botlang.flow.analysis`, the checker's own findings). :func:`to_mermaid` and
:func:`to_dot` write that model out; :func:`to_svg` has Graphviz's ``dot`` program lay
out the DOT text, and raises :class:`GraphvizMissing` with what to install when it is
not there.

What a diagram shows (docs/studio.md):

- a block: its title, then its id and kind (the word that starts it in the file:
  ``block``, ``nostate``, ``quick``, ``close_deal``), in a shape of its own per kind;
- an arrow: its settings as the file writes them — what it reacts to (``on: callback``),
  its timer (``delay:``), its condition, ``if:``, ``unless:``, ``save:``, ``once``,
  ``new client``, a priority other than the default and ``button`` when it is shown as a
  button; start conditions are thick and quick answers dotted, both from "any";
- marks: an unreachable block is grey and dashed; a loop without an exit is red.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field

from botlang.flow.analysis import immediate_loops, reachable_blocks
from botlang.flow.model import Arrow, BlockKind, Flow, Tier, Trigger
from botlang.flow.reader import DEFAULT_PRIORITY

FORMATS = ("mermaid", "dot", "svg")
ANY_NODE = "any"  # the node start conditions and quick answers leave from
MAX_LABEL_PART = 48  # characters of one setting shown on an arrow before it is cut
DOT_TIMEOUT_SECONDS = 60.0

_SAFE_ID = re.compile(r"[A-Za-z0-9_]+\Z")


class GraphvizMissing(RuntimeError):
    """SVG was asked for, but Graphviz's ``dot`` program is not installed."""


class GraphvizFailed(RuntimeError):
    """``dot`` did not turn the DOT text into SVG."""


@dataclass(frozen=True)
class Node:
    """A block of the diagram (or the "any block" node, whose ``block`` is None)."""

    key: str  # the node's id in Mermaid text: ASCII, never a keyword
    block: str | None
    kind: str  # a BlockKind value, or "any"
    title: str
    line: int = 0
    unreachable: bool = False
    in_loop: bool = False

    @property
    def label_lines(self) -> list[str]:
        if self.block is None:
            return ["any"]
        head = self.title or self.block
        return [head, f"{self.block} · {self.kind}"]


@dataclass(frozen=True)
class Edge:
    """An arrow of the diagram, with its label lines."""

    source: str  # node keys
    target: str
    arrow: Arrow
    label: tuple[str, ...]
    in_loop: bool = False

    @property
    def style(self) -> str:
        """``start`` (a start condition), ``quick`` (a quick answer's condition),
        ``callback`` (a block's arrow for callbacks) or ``arrow``."""
        if self.arrow.tier is Tier.START:
            return "start"
        if self.arrow.tier is Tier.QUICK:
            return "quick"
        return "callback" if self.arrow.trigger is Trigger.CALLBACK else "arrow"


@dataclass
class FlowGraph:
    """A flow's diagram, ready to be written out in any format."""

    title: str
    filename: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def key_of(self, block: str | None) -> str:
        """The node key of a block (the "any" node for None)."""
        for node in self.nodes:
            if node.block == block:
                return node.key
        raise KeyError(block)

    @property
    def keys(self) -> dict[str, str]:
        """Block id → node key, for pages that mark a block on the drawn diagram."""
        return {node.block: node.key for node in self.nodes if node.block is not None}


def _shorten(text: str, limit: int = MAX_LABEL_PART) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _shown_as_button(flow: Flow, arrow: Arrow) -> bool:
    if not arrow.button or arrow.source is None:
        return False
    block = flow.blocks.get(arrow.source)
    return block is not None and any(b.arrow is arrow for b in block.buttons)


def arrow_label(flow: Flow, arrow: Arrow) -> tuple[str, ...]:
    """An arrow's settings as the ``.bot`` file writes them, one per line."""
    parts: list[str] = []
    if arrow.trigger is Trigger.CALLBACK:
        parts.append("on: callback")
    if arrow.delay is not None:
        parts.append(f"delay: {arrow.delay.describe()}")
    if arrow.condition is not None:
        parts.append(_shorten(arrow.condition.describe()))
    if arrow.comparison_text is not None:
        parts.append(_shorten(f"if: {arrow.comparison_text}"))
    if arrow.minus is not None:
        parts.append(_shorten(f"unless: {'; '.join(arrow.minus.alternatives)}"))
    if arrow.save_name is not None:
        prefix = "" if arrow.save_scope == "deal" else f"{arrow.save_scope}."
        parts.append(f"save: {prefix}{arrow.save_name}")
    if arrow.once:
        parts.append("once")
    if arrow.new_client:
        parts.append("new client")
    if arrow.priority != DEFAULT_PRIORITY:
        parts.append(f"priority: {arrow.priority}")
    if _shown_as_button(flow, arrow):
        parts.append("button")
    return tuple(parts)


def build_graph(flow: Flow) -> FlowGraph:
    """The diagram of a loaded flow, with unreachable blocks and exitless loops marked."""
    reached = reachable_blocks(flow.blocks, flow.starting_arrows)
    loops = immediate_loops(flow.blocks)
    loop_arrows = {id(a) for loop in loops for a in loop}
    loop_blocks = {a.source for loop in loops for a in loop}
    graph = FlowGraph(flow.title, flow.filename)
    keys: dict[str | None, str] = {}
    taken: set[str] = {ANY_NODE}
    for index, block in enumerate(flow.blocks.values()):
        key = f"b_{block.id}" if _SAFE_ID.match(block.id) else f"n{index}"
        while key in taken:
            key = f"n{index}_{len(taken)}"
        taken.add(key)
        keys[block.id] = key
        graph.nodes.append(
            Node(
                key,
                block.id,
                block.kind.value,
                block.title,
                block.line,
                unreachable=reached is not None and block.id not in reached,
                in_loop=block.id in loop_blocks,
            )
        )
    outside = [*flow.starting_arrows, *flow.quick_arrows]
    if outside:
        keys[None] = ANY_NODE
        graph.nodes.insert(0, Node(ANY_NODE, None, "any", "any"))
    arrows: Iterable[Arrow] = [*outside, *(a for b in flow.blocks.values() for a in b.arrows)]
    for arrow in arrows:
        if arrow.target not in keys:
            continue
        source = None if arrow.tier is not Tier.BLOCK else arrow.source
        graph.edges.append(
            Edge(
                keys[source],
                keys[arrow.target],
                arrow,
                arrow_label(flow, arrow),
                in_loop=id(arrow) in loop_arrows,
            )
        )
    return graph


# -- Mermaid -------------------------------------------------------------------------------

_MERMAID_ENTITIES = {
    '"': "#34;",
    "#": "#35;",
    "&": "#38;",
    "<": "#60;",
    ">": "#62;",
    "`": "#96;",
    "|": "#124;",
}
_MERMAID_SHAPES = {
    "any": ("((", "))"),
    BlockKind.STATE.value: ("[", "]"),
    BlockKind.NOT_STATE.value: ("(", ")"),
    BlockKind.QUICK.value: ("{{", "}}"),
    BlockKind.CLOSE_DEAL.value: ("[[", "]]"),
}
_MERMAID_ARROWS = {"start": "==>", "quick": "-.->", "callback": "-->", "arrow": "-->"}
_MERMAID_CLASSES = (
    "classDef kind_any fill:#eef3ff,stroke:#3a5bbf,color:#1b2a57",
    "classDef kind_block fill:#ffffff,stroke:#3a3a3a,color:#111111",
    "classDef kind_nostate fill:#f7f7f2,stroke:#6b6b4f,stroke-dasharray:4 3,color:#111111",
    "classDef kind_quick fill:#f2f8ee,stroke:#3f7a2c,color:#111111",
    "classDef kind_close_deal fill:#fff6e5,stroke:#a86400,stroke-width:2px,color:#111111",
    "classDef unreachable fill:#eeeeee,stroke:#888888,stroke-dasharray:6 4,color:#555555",
    "classDef exitless_loop stroke:#c62828,stroke-width:3px",
)


def mermaid_text(text: str) -> str:
    """Text safe inside a quoted Mermaid label (entity codes for what Mermaid reads)."""
    return "".join(_MERMAID_ENTITIES.get(ch, ch) for ch in text)


def _mermaid_label(lines: Iterable[str]) -> str:
    return '"' + "<br/>".join(mermaid_text(line) for line in lines) + '"'


def to_mermaid(graph: FlowGraph) -> str:
    """The diagram as a Mermaid flowchart."""
    out = []
    if graph.title:
        # front matter is YAML: a JSON string is a YAML double-quoted scalar
        out.extend(["---", f"title: {json.dumps(graph.title, ensure_ascii=False)}", "---"])
    out.append("flowchart TD")
    for node in graph.nodes:
        opening, closing = _MERMAID_SHAPES[node.kind]
        lines = node.label_lines
        if node.unreachable:
            lines = [*lines, "unreachable"]
        out.append(f"  {node.key}{opening}{_mermaid_label(lines)}{closing}")
    red: list[int] = []
    blue: list[int] = []
    for index, edge in enumerate(graph.edges):
        label = list(edge.label)
        if edge.in_loop:
            label.append("loop without an exit")
            red.append(index)
        elif edge.style == "callback":
            blue.append(index)
        link = _MERMAID_ARROWS[edge.style]
        shown = f"|{_mermaid_label(label)}|" if label else ""
        out.append(f"  {edge.source} {link}{shown} {edge.target}")
    out.extend(f"  {line}" for line in _MERMAID_CLASSES)
    for node in graph.nodes:
        classes = [f"kind_{node.kind}"]
        if node.unreachable:
            classes.append("unreachable")
        if node.in_loop:
            classes.append("exitless_loop")
        out.append(f"  class {node.key} {','.join(classes)}")
    if red:
        out.append(f"  linkStyle {','.join(map(str, red))} stroke:#c62828,stroke-width:3px")
    if blue:
        out.append(f"  linkStyle {','.join(map(str, blue))} stroke:#1f5fbf")
    return "\n".join(out) + "\n"


# -- Graphviz ------------------------------------------------------------------------------

_DOT_SHAPES = {
    "any": 'shape=circle, style=filled, fillcolor="#eef3ff", color="#3a5bbf"',
    BlockKind.STATE.value: 'shape=box, style="rounded,filled", fillcolor="#ffffff"',
    BlockKind.NOT_STATE.value: 'shape=box, style="rounded,dashed,filled", fillcolor="#f7f7f2"',
    BlockKind.QUICK.value: 'shape=hexagon, style=filled, fillcolor="#f2f8ee"',
    BlockKind.CLOSE_DEAL.value: 'shape=box, peripheries=2, style=filled, fillcolor="#fff6e5"',
}
_DOT_EDGES = {
    "start": "penwidth=2.5",
    "quick": "style=dotted",
    "callback": 'color="#1f5fbf", fontcolor="#1f5fbf"',
    "arrow": "",
}


def dot_string(text: str) -> str:
    """A DOT quoted string (label lines joined by ``\\n``)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: FlowGraph) -> str:
    """The diagram as a Graphviz DOT digraph (SVG ids ``block-ID`` on the blocks)."""
    ids = {node.key: (node.block if node.block is not None else ANY_NODE) for node in graph.nodes}
    out = [f"digraph {dot_string(graph.title or graph.filename)} {{"]
    out.append('  graph [rankdir=TB, fontname="DejaVu Sans", nodesep=0.4, ranksep=0.5];')
    out.append('  node [fontname="DejaVu Sans", fontsize=11, color="#3a3a3a"];')
    out.append('  edge [fontname="DejaVu Sans", fontsize=9, color="#3a3a3a"];')
    if graph.title:
        out.append(f"  label={dot_string(graph.title)}; labelloc=t; fontsize=14;")
    for node in graph.nodes:
        lines = node.label_lines
        attributes = [f"label={dot_string(chr(10).join(lines))}", _DOT_SHAPES[node.kind]]
        element = "block-" + node.block if node.block is not None else "any-block"
        attributes.append(f"id={dot_string(element)}")
        if node.block is not None:
            attributes.append(f"tooltip={dot_string(f'{node.block} (line {node.line})')}")
        if node.unreachable:
            attributes[0] = f"label={dot_string(chr(10).join([*lines, 'unreachable']))}"
            attributes.append(
                'color="#888888", fontcolor="#555555", style="dashed,filled", fillcolor="#eeeeee"'
            )
        if node.in_loop:
            attributes.append('color="#c62828", penwidth=2.5')
        out.append(f"  {dot_string(ids[node.key])} [{', '.join(attributes)}];")
    for edge in graph.edges:
        label = list(edge.label)
        attributes = [_DOT_EDGES[edge.style]] if _DOT_EDGES[edge.style] else []
        if edge.in_loop:
            label.append("loop without an exit")
            attributes.append('color="#c62828", fontcolor="#c62828", penwidth=2.5')
        if label:
            attributes.insert(0, f"label={dot_string(chr(10).join(label))}")
        attributes.append(f"tooltip={dot_string(edge.arrow.describe())}")
        source, target = dot_string(ids[edge.source]), dot_string(ids[edge.target])
        out.append(f"  {source} -> {target} [{', '.join(attributes)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def dot_program() -> str | None:
    """Where Graphviz's ``dot`` is, or None."""
    return shutil.which("dot")


def to_svg(graph: FlowGraph) -> str:
    """The diagram as SVG, laid out by Graphviz's ``dot``.

    Raises :class:`GraphvizMissing` (naming what to install) when ``dot`` is not there,
    :class:`GraphvizFailed` when it fails.
    """
    program = dot_program()
    if program is None:
        raise GraphvizMissing(
            "SVG needs Graphviz's 'dot' program, which is not installed here: install "
            "Graphviz (Debian and Ubuntu: apt install graphviz; macOS: brew install graphviz; "
            "Windows: winget install graphviz), or use --format mermaid or --format dot, "
            "which need nothing else"
        )
    try:
        done = subprocess.run(
            [program, "-Tsvg"],
            input=to_dot(graph).encode("utf-8"),
            capture_output=True,
            timeout=DOT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GraphvizFailed(f"Graphviz's dot did not finish: {exc}") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise GraphvizFailed(f"Graphviz's dot failed: {reason}")
    return done.stdout.decode("utf-8")


def render(flow: Flow, fmt: str) -> str:
    """A flow's diagram in one of :data:`FORMATS`."""
    graph = build_graph(flow)
    if fmt == "mermaid":
        return to_mermaid(graph)
    if fmt == "dot":
        return to_dot(graph)
    if fmt == "svg":
        return to_svg(graph)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
