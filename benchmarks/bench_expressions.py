"""Expression speed: botlang against CPython's own eval (the floor), simpleeval and asteval.

Every engine gets the same bot-style expressions and the same variables; each expression is
parsed/compiled once, outside the timed loop. Reported as µs per evaluation and as ratios
measured in the same run (machines are shared and noisy: compare ratios, not times).

    python benchmarks/bench_expressions.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import timeit
from collections.abc import Callable
from typing import Any

import botlang
from botlang.core.compiler import compile_expression

VARIABLES: dict[str, Any] = {
    "visits": 7,
    "age": 34,
    "city": "Moscow",
    "price": 1250.5,
    "count": 3,
    "discount": 100,
    "items": ["tea", "coffee", "milk"],
    "order": {"id": 17, "total": 3500},
    "weekday": 3,
    "score": 81,
    "name": "Ann",
}

# (botlang, Python) — the same meaning written in each language.
CORPUS: list[tuple[str, str]] = [
    ("visits + 1", "visits + 1"),
    ("age >= 18 and city == 'Moscow'", "age >= 18 and city == 'Moscow'"),
    ("price * count - discount", "price * count - discount"),
    ("items[0]", "items[0]"),
    ("order['total'] > 3000", "order['total'] > 3000"),
    ("weekday != 6 and weekday != 7", "weekday != 6 and weekday != 7"),
    ("(score - 50) * 2 / 10", "(score - 50) * 2 / 10"),
    ("if(score > 80, 'gold', 'silver')", "'gold' if score > 80 else 'silver'"),
    ("name + ', hello!'", "name + ', hello!'"),
    ("visits % 3 == 0 or age < 25", "visits % 3 == 0 or age < 25"),
]


# A calculator script and its Python twin: the statements of a typical block.
SCRIPT = """visits = visits + 1
total = price * count - discount
vip = total > 3000 and visits > 5
greeting = if(vip, 'Dear ' + name, 'Hello ' + name)
first = items[0]
order_total = order['total']
"""
PY_SCRIPT = """visits = visits + 1
total = price * count - discount
vip = total > 3000 and visits > 5
greeting = ('Dear ' + name) if vip else ('Hello ' + name)
first = items[0]
order_total = order['total']
"""


def script_engines() -> dict[str, Callable[[], Any]]:
    """Each engine runs the whole script on a fresh copy of the variables."""
    program = botlang.compile(SCRIPT)
    code = compile(PY_SCRIPT, "<script>", "exec")
    namespace: dict[str, Any] = {"__builtins__": {}}
    found: dict[str, Callable[[], Any]] = {
        "botlang": lambda: program.run(VARIABLES),
        "cpython-exec": lambda: exec(code, namespace, dict(VARIABLES)),
    }
    try:
        import asteval

        interpreter = asteval.Interpreter(use_numpy=False)
        parsed = interpreter.parse(PY_SCRIPT)

        def run_asteval() -> None:
            interpreter.symtable.update(VARIABLES)
            interpreter.run(parsed)

        found["asteval"] = run_asteval
    except ImportError:
        pass
    return found


def bench(fn: Callable[[], Any], repeat: int, number: int) -> float:
    """Best-of-``repeat`` µs per call."""
    return min(timeit.repeat(fn, repeat=repeat, number=number)) / number * 1e6


def engines() -> dict[str, Callable[[str, str], Callable[[], Any]]]:
    def botlang_engine(bl: str, _py: str) -> Callable[[], Any]:
        expression = compile_expression(bl)
        variables = VARIABLES
        return lambda: expression.evaluate(variables)

    def cpython_engine(_bl: str, py: str) -> Callable[[], Any]:
        code = compile(py, "<expr>", "eval")
        namespace = {"__builtins__": {}}
        variables = VARIABLES
        return lambda: eval(code, namespace, variables)

    found: dict[str, Callable[[str, str], Callable[[], Any]]] = {
        "botlang": botlang_engine,
        "cpython-eval": cpython_engine,
    }
    try:
        import simpleeval

        def simpleeval_engine(_bl: str, py: str) -> Callable[[], Any]:
            evaluator = simpleeval.SimpleEval(names=VARIABLES)
            parsed = evaluator.parse(py)
            return lambda: evaluator.eval(py, previously_parsed=parsed)

        found["simpleeval"] = simpleeval_engine
    except ImportError:
        print("simpleeval not installed: skipped", file=sys.stderr)
    try:
        import asteval

        def asteval_engine(_bl: str, py: str) -> Callable[[], Any]:
            interpreter = asteval.Interpreter(use_numpy=False)
            interpreter.symtable.update(VARIABLES)
            parsed = interpreter.parse(py)
            return lambda: interpreter.run(parsed)

        found["asteval"] = asteval_engine
    except ImportError:
        print("asteval not installed: skipped", file=sys.stderr)
    return found


def check_agreement() -> None:
    """All engines must compute the same values, or the timing means nothing."""
    for bl, py in CORPUS:
        expected = eval(compile(py, "<expr>", "eval"), {"__builtins__": {}}, dict(VARIABLES))
        got = botlang.evaluate(bl, VARIABLES)
        if got != expected:
            raise SystemExit(f"botlang disagrees on {bl!r}: {got!r} != {expected!r}")


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (for CI)")
    args = parser.parse_args(argv)
    repeat, number = (3, 2_000) if args.quick else (7, 20_000)
    check_agreement()
    available = engines()
    per_engine: dict[str, list[float]] = {name: [] for name in available}
    print(f"{'expression':40} " + " ".join(f"{name:>13}" for name in available))
    for bl, py in CORPUS:
        row = []
        for name, make in available.items():
            micros = bench(make(bl, py), repeat, number)
            per_engine[name].append(micros)
            row.append(f"{micros:10.3f} µs")
        print(f"{bl[:40]:40} " + " ".join(row))
    means = {name: statistics.geometric_mean(times) for name, times in per_engine.items()}
    print()
    print("geometric mean µs per evaluation:")
    for name, micros in means.items():
        print(f"  {name:13} {micros:8.3f}")
    print()
    print("a six-statement calculator script (µs per run, variables copied each run):")
    script_times = {
        name: bench(fn, repeat, max(number // 5, 200)) for name, fn in script_engines().items()
    }
    for name, micros in script_times.items():
        print(f"  {name:13} {micros:8.3f}")
    print(
        f"  botlang / cpython-exec = {script_times['botlang'] / script_times['cpython-exec']:.2f}x"
    )
    if "asteval" in script_times:
        print(f"  asteval / botlang = {script_times['asteval'] / script_times['botlang']:.2f}x")
    base = means["botlang"]
    print()
    print(f"botlang / cpython-eval = {base / means['cpython-eval']:.2f}x  (target ≤ 3x)")
    targets = {"simpleeval": "  (target ≥ 5x)", "asteval": ""}
    for peer, target in targets.items():
        if peer in means:
            print(f"{peer} / botlang = {means[peer] / base:.2f}x{target}")
    return means


if __name__ == "__main__":
    main()
