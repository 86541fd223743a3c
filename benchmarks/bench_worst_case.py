"""The sandbox's guarantee, measured: the worst scripts we know of, each in a child process.

Every case is a script, expression or template built to use as much time or memory as the
default limits allow: the bombs the sandbox was attacked with, and every builtin at its
limits. Each runs in a fresh child process (so one case's memory cannot hide another's),
which reports the CPU time of compiling, the CPU time of running, and the run's peak of
allocated memory (tracemalloc). The table prints each against the bound promised in
docs/security.md:

    a run of any script under the default limits ends within 2 s of CPU and allocates at
    most 256 MB at its peak.

    python benchmarks/bench_worst_case.py            # every case
    python benchmarks/bench_worst_case.py -k regex   # the cases whose name has "regex"

Exit status 1 when a case breaks the bound or escapes as anything but a BotlangError.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

CPU_BOUND_SECONDS = 2.0
MEMORY_BOUND_MB = 256.0

TEXT = "x" * 100_000
WORDS = " ".join(f"w{i % 5000}" for i in range(16_000))  # 100,000 characters, 16,000 words
JSON_LIST = json.dumps(list(range(16_000)))  # a 100 KB API answer
JSON_DICT = json.dumps({f"k{i}": {"id": i, "name": "x" * 20} for i in range(2_500)})
SLOW = "a" * 40 + "!"  # (a|aa)+$ backtracks exponentially on this
WORD_LIST = WORDS.split()


@dataclass(frozen=True)
class Case:
    """One worst case: what runs (``run``, ``render`` or ``evaluate``), the text, inputs."""

    name: str
    source: str
    variables: dict[str, Any] = field(default_factory=dict)
    kind: str = "run"


def _lines(statement: str, count: int) -> str:
    return "\n".join([statement] * count)


CASES = [
    # -- one short line that took all memory
    Case("repeat of repeats", "a = [[[0] * 1000] * 1000] * 1000"),
    Case("repeat of a long text", "a = [s] * 100000", {"s": TEXT}),
    Case("shared rows to text", "t = '' + [s] * 9", {"s": TEXT}),
    Case("shared rows through str()", "t = str([s] * 9)", {"s": TEXT}),
    Case("shared rows in a message", "#{r}", {"r": [TEXT[:90_000]] * 9}, "render"),
    Case(
        "get_values_by_key over shared rows",
        "n = arr_len(get_values_by_key([{'k': [1] * 1000, 'l': [{'k': 1}] * 100}] * 300, 'k'))",
    ),
    Case("sort at the limit", "n = arr_len(sort(splitter(s)))", {"s": WORDS}),
    Case("sort, 40 times", _lines("n = arr_len(sort(splitter(s)))", 40), {"s": WORDS}),
    Case(
        "remove_duplicates, 40 times",
        _lines("n = arr_len(remove_duplicates(splitter(s)))", 40),
        {"s": WORDS},
    ),
    Case(
        "except_arr and cross_arr, 20 times",
        _lines("n = arr_len(except_arr(a, b)) + arr_len(cross_arr(a, b))", 20),
        {"a": WORD_LIST, "b": WORD_LIST[::-1]},
    ),
    # -- as much memory as the budget lets a run keep
    Case(
        "1,000 variables of distinct words",
        "\n".join(f"v{i} = splitter(s)" for i in range(1_000)),
        {"s": WORDS[:72_000]},
    ),
    Case(
        "1,000 variables of distinct keys",
        "\n".join(
            f"v{i} = {{{', '.join(repr(f'k{i}_{j}') + ': 1' for j in range(60))}}}"
            for i in range(200)
        ),
    ),
    Case(
        "1,000 parsed JSON texts kept",
        "\n".join(f"t = '{{\"k\": [' + b + '{i}]}}'\nv{i} = t['k']" for i in range(1_000)),
        {"b": "1.25," * 19_990},
    ),
    Case(
        "1,000 texts of 100,000 characters",
        "\n".join(f"t{i} = s + '{i}'" for i in range(1_000)),
        {"s": TEXT[:99_000]},
    ),
    # -- print and messages
    Case("70 nested print", "x = " + "print(" * 70 + "s" + ", s)" * 70, {"s": "abc" * 100}),
    Case("print at the output limit", _lines("print(s)", 200), {"s": "x" * 10_000}),
    Case("a 2.5 GB message", "#{s}" * 25_000, {"s": TEXT}, "render"),
    # -- raw exceptions that escaped
    Case("100 chained not", "x = " + "not " * 100 + "1"),
    Case("100 chained and/or/+1", "x = " + " and ".join(["a + 1"] * 50) + " or b", {"a": 1}),
    Case("a number past 4,300 digits", "a = 10 ** 4299\nb = a * 9 + a\nc = '' + b"),
    Case("a 900-deep list", _lines("a = [a]", 900) + "\nt = str(a)"),
    # -- time bombs
    Case("list difference, 100,000 each", "n = arr_len([1] * 100000 - [2] * 100000)"),
    Case(
        "list difference, 20 times",
        _lines("n = arr_len(a - b)", 20),
        {"a": WORD_LIST, "b": WORD_LIST[::2]},
    ),
    Case("20 slow regex searches", _lines("m = findall('(a|aa)+$', s)", 20), {"s": SLOW}),
    Case("5,000 reads of a 100 KB JSON text", _lines("n = arr_len(s)", 5_000), {"s": JSON_LIST}),
    Case(
        "5,000 keys of a 100 KB JSON object", _lines("n = s['k7']['id']", 5_000), {"s": JSON_DICT}
    ),
    Case("literal text with 199,990 spaces", "x = a" + " " * 199_990 + "b"),
    Case("33,000 statements", _lines("a=a+1", 33_000)),
    Case("the largest script", _lines("a = b + c * d - len(x)", 8_600)),
    Case("10,000 long concatenations", _lines("x = s + 'a'", 10_000), {"s": TEXT[:99_000]}),
    Case(
        "similar() at its limit, 100 times",
        _lines("v = similar(s, t)", 100),
        {"s": "ab" * 500, "t": "ba" * 500},
    ),
    Case(
        "in_array over 16,000 items, 2,000 times",
        _lines("v = in_array(a, 'zz')", 2_000),
        {"a": WORD_LIST},
    ),
    # -- numbers and text
    Case("upper() tripling a text", "x = upper(s)", {"s": "ﬃ" * 100_000}),
    Case("1e999", "x = 1e999"),
    Case("float overflow", "x = 1.7e308 + 1.7e308"),
    Case("big powers, 1,000 times", _lines("x = 9 ** 4000 * 7", 1_000)),
    Case("fac at its limit, 1,000 times", _lines("x = fac(1000)", 1_000)),
    # -- builtins at their limits
    Case("md5 of 100,000 characters, 1,000 times", _lines("h = md5(s)", 1_000), {"s": TEXT}),
    Case("replace growing a text", "x = replace(s, 'x', 'yy')", {"s": TEXT[:50_000]}),
    Case("splitter into 100,000 items", "n = arr_len(splitter(s, ','))", {"s": "," * 99_999}),
    Case("findall of every character", "n = arr_len(findall('.', s))", {"s": TEXT}),
    Case("base64 at the limit, 500 times", _lines("x = base64(s)", 500), {"s": TEXT[:75_000]}),
    Case("urlencode, 500 times", _lines("x = urlencode(s)", 500), {"s": "я" * 10_000}),
    Case("concat at the limit", "x = concat(s, s)", {"s": TEXT}),
    Case(
        "dict building, 1,000 keys a statement",
        _lines("d = {" + ", ".join(f"'k{i}': s" for i in range(100)) + "}", 150),
        {"s": "v" * 900},
    ),
    Case("deep path assignment", "d = {}\n" + _lines("d['a']['b']['c'][0] = 1", 1)),
    Case(
        "append in a chain, 5,000 times",
        "a = []\n" + _lines("a = append(a, s)", 5_000),
        {"s": "x" * 20},
    ),
    Case("dates, 4,000 calls", _lines("d = addMonth(addDays('31.01.2024', 400), 13)", 4_000)),
    # -- expressions and templates
    Case("a long expression", " + ".join(["a"] * 140), {"a": "x" * 700}, "evaluate"),
    Case("nested template from client text", "#{a#{q}}", {"a": 1, "q": "+len('pwned')"}, "render"),
]


def _compiled(case: Case, limits: Any) -> Any:
    from botlang.core.compiler import compile_expression, compile_program, compile_template

    if case.kind == "run":
        return compile_program(case.source, limits=limits)
    if case.kind == "render":
        return compile_template(case.source, limits=limits)
    return compile_expression(case.source, limits=limits)


def _once(case: Case, compiled: Any, context: Any = None) -> None:
    if case.kind == "run":
        compiled.run(case.variables, context=context)
    elif case.kind == "render":
        compiled.render(case.variables, context=context)
    else:
        compiled.evaluate(case.variables, context=context)


def run_case(case: Case) -> dict[str, Any]:
    """Compile and run one case in this process; what it cost.

    The run is timed once (CPU time) under the default limits. Its memory is measured in
    a second run under tracemalloc, which slows it down: that run has no deadline, so it
    goes as far as the other limits let it (an upper bound on what the timed run kept).
    """
    import time
    import tracemalloc

    from botlang import BotlangError
    from botlang.core.limits import DEFAULT_LIMITS
    from botlang.core.runtime import values
    from botlang.core.runtime.run import Run

    outcome = "ok"
    compile_seconds = run_seconds = peak_mb = 0.0
    started = time.process_time()
    try:
        compiled = _compiled(case, DEFAULT_LIMITS)
        compile_seconds = time.process_time() - started
        started = time.process_time()
        try:
            _once(case, compiled)
        finally:
            run_seconds = time.process_time() - started
            untimed = Run(limits=DEFAULT_LIMITS.with_changes(max_run_seconds=3600.0))
            values._parsed.cache_clear()
            tracemalloc.start()
            try:
                _once(case, compiled, untimed)
            except BotlangError:
                pass
            finally:
                peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
    except BotlangError as err:
        outcome = f"{type(err).__name__} at {err.line}:{err.column}: {err.message[:60]}"
    except BaseException as exc:
        outcome = f"ESCAPED {type(exc).__name__}: {str(exc)[:60]}"
    return {
        "compile_seconds": compile_seconds,
        "run_seconds": run_seconds,
        "peak_mb": peak_mb,
        "outcome": outcome,
    }


def in_child(case: Case) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", case.name],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        return {
            "compile_seconds": 0.0,
            "run_seconds": 0.0,
            "peak_mb": 0.0,
            "outcome": f"ESCAPED child exit {done.returncode}: {done.stderr.strip()[-80:]}",
        }
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only cases whose name contains this")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    by_name = {case.name: case for case in CASES}
    if args.child:
        print(json.dumps(run_case(by_name[args.child])))
        return 0
    chosen = [case for case in CASES if args.k in case.name]
    print(
        f"bound: a run ends within {CPU_BOUND_SECONDS:g} s of CPU and allocates at most "
        f"{MEMORY_BOUND_MB:g} MB at its peak (default limits)\n"
    )
    header = f"{'case':44} {'compile s':>9} {'run s':>7} {'peak MB':>8}  {'bound':5}  outcome"
    print(header)
    print("-" * len(header))
    broken = 0
    worst_time = worst_memory = 0.0
    for case in chosen:
        cost = in_child(case)
        held = (
            cost["run_seconds"] <= CPU_BOUND_SECONDS
            and cost["peak_mb"] <= MEMORY_BOUND_MB
            and not cost["outcome"].startswith("ESCAPED")
        )
        broken += not held
        worst_time = max(worst_time, cost["run_seconds"])
        worst_memory = max(worst_memory, cost["peak_mb"])
        print(
            f"{case.name[:44]:44} {cost['compile_seconds']:9.3f} {cost['run_seconds']:7.3f} "
            f"{cost['peak_mb']:8.1f}  {'ok' if held else 'OVER':5}  {cost['outcome']}"
        )
    print(
        f"\n{len(chosen)} cases; worst run {worst_time:.3f} s of CPU "
        f"(bound {CPU_BOUND_SECONDS:g} s), worst peak {worst_memory:.1f} MB "
        f"(bound {MEMORY_BOUND_MB:g} MB); {broken} over the bound"
    )
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
