"""The shape of a flow's graph: which blocks a conversation can reach, and the loops of
immediate arrows that have no way out.

One implementation for every part that needs them: the loader's ``unreachable`` and
``loop`` warnings (``botlang check``) and the marks on the diagram (``botlang graph``,
``botlang studio``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from botlang.flow.model import Arrow, Block, BlockKind


def reachable_blocks(blocks: Mapping[str, Block], starting: Iterable[Arrow]) -> set[str] | None:
    """The blocks a conversation can reach: it starts at a start condition or a quick
    answer and goes on along arrows. None when nothing starts a conversation at all (the
    flow lint's ``new-client`` warning covers that case once)."""
    roots = [a.target for a in starting if a.target in blocks]
    roots.extend(b.id for b in blocks.values() if b.kind is BlockKind.QUICK)
    if not roots:
        return None
    reached = set(roots)
    todo = list(reached)
    while todo:
        block = blocks[todo.pop()]
        for arrow in block.arrows:
            if arrow.target in blocks and arrow.target not in reached:
                reached.add(arrow.target)
                todo.append(arrow.target)
    return reached


def immediate_loops(blocks: Mapping[str, Block]) -> list[tuple[Arrow, ...]]:
    """Loops without an exit: arrows taken at once without a condition that lead round in
    a circle. Each loop is its arrows in order, the first leaving the loop's first block.

    For each block only the first immediate arrow it tries counts (the first to fire
    cancels the others); one with an ``if:`` may not fire, so it breaks the loop.
    """
    step: dict[str, Arrow] = {}
    for block_id, block in blocks.items():
        for arrow in sorted(block.arrows, key=lambda a: (-a.priority, a.order)):
            if arrow.immediate:
                if arrow.comparison is None and arrow.target in blocks:
                    step[block_id] = arrow
                break
    found: list[tuple[Arrow, ...]] = []
    seen: set[str] = set()
    for start in step:
        path: list[str] = []
        at: str | None = start
        while at is not None and at in step and at not in path:
            path.append(at)
            at = step[at].target
        if at is None or at not in path or at in seen:
            continue
        loop = path[path.index(at) :]
        seen.update(loop)
        found.append(tuple(step[block_id] for block_id in loop))
    return found
