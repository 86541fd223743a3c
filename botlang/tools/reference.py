"""The function reference, generated from the builtin registry (the one source of truth).

``python -m botlang.tools.reference > docs/functions.md`` writes the Markdown reference;
``botlang help`` lists every function and ``botlang help NAME`` shows one function (or one
module). Signatures come from :meth:`botlang.core.builtins.Builtin.signature` and descriptions
from the first line of each function's docstring, so nothing is written down twice.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import inspect
import sys
from collections.abc import Sequence

from botlang.core.builtins import Builtin, Constant, Registry, load_stdlib

STDLIB_PACKAGE = "botlang.stdlib"

_INTRO = """\
# Function reference

Every function a botlang script can call, grouped by module. This page is generated from
the function registry by `python -m botlang.tools.reference > docs/functions.md`; do not edit it
by hand. `botlang help NAME` shows the same for one function.

Reading a signature: a parameter with `= value` is optional; `*name` takes any number of
values. Parameter types: `number` also accepts a numeric text ("5"), `int` a whole number
or its text, `str` any value as its text (5 → "5", None → ""), `list` and `dict` also the
JSON text of one; a parameter without a type takes any value. A function with two names
(Salebot's and a snake_case alias) is listed once under the first.
"""


def module_order() -> list[str]:
    """The stdlib modules in the order the reference shows them."""
    package = importlib.import_module(STDLIB_PACKAGE)
    return list(getattr(package, "MODULES", ()))


def module_summary(module: str) -> str:
    """The first line of a stdlib module's docstring."""
    try:
        doc = inspect.getdoc(importlib.import_module(f"{STDLIB_PACKAGE}.{module}")) or ""
    except ImportError:
        return ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def grouped(registry: Registry | None = None) -> list[tuple[str, list[Builtin]]]:
    """(module, functions) for every stdlib module, in reference order, functions by name."""
    reg = registry or load_stdlib()
    groups: dict[str, list[Builtin]] = {}
    for fn in reg.functions():
        # Only the standard library is documented: builtins registered elsewhere (tests,
        # embedding applications) must not change the published reference.
        if not fn.func.__module__.startswith(STDLIB_PACKAGE + "."):
            continue
        groups.setdefault(fn.module, []).append(fn)
    order = module_order()
    names = sorted(groups, key=lambda m: (order.index(m) if m in order else len(order), m))
    return [(name, groups[name]) for name in names]


def _markdown(doc: str) -> str:
    """Docstring markup (``code``) as Markdown code."""
    return doc.replace("``", "`")


def _plain(doc: str) -> str:
    """Docstring markup dropped for the terminal."""
    return doc.replace("``", "")


def _aliases(fn: Builtin) -> str:
    if not fn.aliases:
        return ""
    return " Also `" + "`, `".join(fn.aliases) + "`."


def constants_of(module: str, registry: Registry) -> list[Constant]:
    """The stdlib constants a module defines, by name."""
    full = f"{STDLIB_PACKAGE}.{module}"
    return sorted(
        (c for c in registry.constants.values() if c.module == full), key=lambda c: c.name
    )


def render_markdown(registry: Registry | None = None) -> str:
    """The whole reference as Markdown (the text of docs/functions.md)."""
    reg = registry or load_stdlib()
    lines = [_INTRO]
    for module, functions in grouped(reg):
        lines.append(f"## {module}\n")
        summary = module_summary(module)
        if summary:
            lines.append(f"{summary}\n")
        for fn in functions:
            lines.append(f"- `{fn.signature()}` — {_markdown(fn.doc)}{_aliases(fn)}")
        for const in constants_of(module, reg):
            lines.append(f"- constant `{const.name}` — {_markdown(const.doc)}")
        lines.append("")
    lines.extend(render_salebot_coverage(reg))
    return "\n".join(lines).rstrip("\n") + "\n"


_COVERAGE_INTRO = """\
## Salebot's functions: what botlang provides

Every function name Salebot's calculator editor knows, by the section of Salebot's
documentation that describes it. botlang provides the calculator's own functions; the
functions of Salebot's platform and integrations (CRM, lists, messengers, payments...) need
Salebot itself, and a script that calls one is told so when it is checked or compiled
(`a Salebot platform function botlang does not provide`, with the page), not offered a
look-alike. See docs/salebot.md for the differences.
"""


def render_salebot_coverage(registry: Registry) -> list[str]:
    """Markdown lines: per Salebot section, the names botlang provides and those it does not."""
    from botlang.stdlib import salebot

    lines = [_COVERAGE_INTRO]
    for section in salebot.SECTIONS:
        provided = [n for n in section.names if salebot.is_provided(n, registry)]
        missing = [n for n in section.names if n not in provided]
        title = f"[{section.title}]({section.url})" if section.url else section.title
        lines.append(f"### {title}\n")
        lines.append(f"{len(provided)} of {len(section.names)} provided.\n")
        if provided:
            lines.append("- provided: " + ", ".join(f"`{n}`" for n in provided))
        if missing:
            lines.append("- not provided: " + ", ".join(f"`{n}`" for n in missing))
        lines.append("")
    return lines


def render_listing(registry: Registry | None = None) -> str:
    """Every function, one a line, grouped by module (``botlang help``)."""
    lines = []
    for module, functions in grouped(registry):
        summary = module_summary(module)
        lines.append(f"{module}: {summary}" if summary else module)
        for fn in functions:
            lines.append(f"  {fn.signature()}")
            lines.append(f"      {_plain(fn.doc)}")
        lines.append("")
    lines.append("botlang help NAME shows one function or module.")
    return "\n".join(lines) + "\n"


def render_function(fn: Builtin) -> str:
    """One function in full (``botlang help NAME``)."""
    lines = [fn.signature()]
    if fn.aliases:
        lines.append(f"  also: {', '.join(fn.aliases)}")
    lines.append(f"  module: {fn.module}")
    lines.append("")
    doc = inspect.getdoc(fn.func) or fn.doc
    lines.extend(f"  {line}".rstrip() for line in _plain(doc).splitlines())
    return "\n".join(lines) + "\n"


def render_module(module: str, functions: list[Builtin]) -> str:
    """One module's functions (``botlang help MODULE``)."""
    summary = module_summary(module)
    lines = [f"{module}: {summary}" if summary else module, ""]
    for fn in functions:
        lines.append(f"  {fn.signature()}")
        lines.append(f"      {_plain(fn.doc)}{_aliases(fn)}")
    return "\n".join(lines) + "\n"


def help_text(name: str | None, registry: Registry | None = None) -> tuple[str, bool]:
    """(text, found) for ``botlang help [NAME]``."""
    reg = registry or load_stdlib()
    if not name:
        return render_listing(reg), True
    fn = reg.get(name)
    if fn is not None:
        return render_function(fn), True
    for module, functions in grouped(reg):
        if module == name:
            return render_module(module, functions), True
    reason = reg.unprovided(name)
    if reason is not None:
        return f"botlang help: {name} is {reason}\n", False
    candidates = reg.names() + [module for module, _ in grouped(reg)]
    close = difflib.get_close_matches(name, candidates, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"botlang help: no function or module named {name!r}{hint}\n", False


def cmd_help(args: argparse.Namespace) -> int:
    text, found = help_text(args.name)
    (sys.stdout if found else sys.stderr).write(text)
    return 0 if found else 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``help`` verb to the botlang command line."""
    parser = subparsers.add_parser(
        "help", help="list the builtin functions, or show one function or module"
    )
    parser.add_argument("name", nargs="?", help="a function name (e.g. addDays) or a module")
    parser.set_defaults(func=cmd_help)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the Markdown reference to standard output, as UTF-8 whatever the locale."""
    parser = argparse.ArgumentParser(
        prog="python -m botlang.tools.reference",
        description="Print the Markdown function reference (docs/functions.md).",
    )
    parser.parse_args(argv)
    sys.stdout.buffer.write(render_markdown().encode("utf-8"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
