"""Per-run cost: one-statement scripts, where the cost of a run (not of its operators) shows.

Each engine runs the same one-statement scripts on the same 12 variables, compiled or parsed
once outside the timed loop:

- **botlang** — ``Program.run(variables)``: a new run object, the variables copied once,
  the result returned;
- **cpython-exec** — CPython's ``exec`` of the equivalent compiled code with the variables
  copied into a fresh dict each time: the floor;
- **simpleeval** — ``SimpleEval`` with the expression pre-parsed, the variables copied
  and the result stored in the copy (simpleeval has no statements).

Engines are timed in turn, round after round, and each keeps its best round: the machine is
shared and noisy, so compare the ratios printed at the end, measured in the same run.

    python benchmarks/bench_run_cost.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import timeit
from collections.abc import Callable
from typing import Any

import botlang

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
    "total": 0,
}

# (botlang statement, the same in Python)
SCRIPTS: list[tuple[str, str]] = [
    ("visits = visits + 1", "visits = visits + 1"),
    ("total = price * count - discount", "total = price * count - discount"),
    ("adult = age >= 18", "adult = age >= 18"),
    ("greeting = 'Hello, ' + name", "greeting = 'Hello, ' + name"),
    ("first = items[0]", "first = items[0]"),
    ("big = order['total'] > 3000", "big = order['total'] > 3000"),
    ("level = if(score > 80, 'gold', 'silver')", "level = 'gold' if score > 80 else 'silver'"),
    ("weekend = weekday == 6 or weekday == 7", "weekend = weekday == 6 or weekday == 7"),
]


def _target(py: str) -> tuple[str, str]:
    name, expression = py.split(" = ", 1)
    return name, expression


def engines() -> dict[str, Callable[[str, str], Callable[[], Any]]]:
    def botlang_engine(bl: str, _py: str) -> Callable[[], Any]:
        program = botlang.compile(bl)
        variables = VARIABLES
        return lambda: program.run(variables)

    def cpython_engine(_bl: str, py: str) -> Callable[[], Any]:
        code = compile(py, "<script>", "exec")
        namespace: dict[str, Any] = {"__builtins__": {}}
        variables = VARIABLES

        def run() -> dict[str, Any]:
            copy = dict(variables)
            exec(code, namespace, copy)
            return copy

        return run

    found: dict[str, Callable[[str, str], Callable[[], Any]]] = {
        "botlang": botlang_engine,
        "cpython-exec": cpython_engine,
    }
    try:
        import simpleeval

        def simpleeval_engine(_bl: str, py: str) -> Callable[[], Any]:
            name, expression = _target(py)
            evaluator = simpleeval.SimpleEval()
            parsed = evaluator.parse(expression)
            variables = VARIABLES

            def run() -> dict[str, Any]:
                copy = dict(variables)
                evaluator.names = copy
                copy[name] = evaluator.eval(expression, previously_parsed=parsed)
                return copy

            return run

        found["simpleeval"] = simpleeval_engine
    except ImportError:
        print("simpleeval not installed: skipped", file=sys.stderr)
    return found


def check_agreement(available: dict[str, Callable[[str, str], Callable[[], Any]]]) -> None:
    """Every engine must compute the same variables, or the timing means nothing."""
    for bl, py in SCRIPTS:
        results = {name: make(bl, py)() for name, make in available.items()}
        expected = results["cpython-exec"]
        for name, got in results.items():
            if got != expected:
                raise SystemExit(f"{name} disagrees on {bl!r}: {got!r} != {expected!r}")


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    rounds, number = (3, 3_000) if args.quick else (9, 20_000)
    available = engines()
    check_agreement(available)
    runners = {(bl, name): make(bl, py) for bl, py in SCRIPTS for name, make in available.items()}
    best: dict[tuple[str, str], float] = {}
    for _ in range(rounds):  # engines interleaved, so load changes hit them alike
        for key, runner in runners.items():
            micros = timeit.timeit(runner, number=number) / number * 1e6
            best[key] = min(best.get(key, micros), micros)
    names = list(available)
    print(f"{'script (µs per run)':42} " + " ".join(f"{name:>13}" for name in names))
    for bl, _py in SCRIPTS:
        print(f"{bl[:42]:42} " + " ".join(f"{best[(bl, name)]:13.3f}" for name in names))
    means = {
        name: statistics.geometric_mean(best[(bl, name)] for bl, _ in SCRIPTS) for name in names
    }
    print("\ngeometric mean µs per run:")
    for name in names:
        print(f"  {name:13} {means[name]:8.3f}")
    ratio = means["botlang"] / means["cpython-exec"]
    print(f"\nbotlang / cpython-exec = {ratio:.2f}x  (target ≤ 3x)")
    if "simpleeval" in means:
        print(
            f"simpleeval / botlang = {means['simpleeval'] / means['botlang']:.2f}x  (target ≥ 5x)"
        )
    return means


if __name__ == "__main__":
    main()
