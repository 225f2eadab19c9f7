"""Benchmark of the agency's seal (issue 29): what signing adds to a record PDF.

    .venv/bin/python bench/sign.py [--repeat 25] [--pairs 7] [--no-write]

For each example agreement (rendered once, as sent), paired runs in one process, the
two halves of each pair back to back so the machine's noise hits both alike:

- render: the agreement rendered afresh (``render_agreement(..., cache=NoCache())``);
- render + seal: the same render, then :func:`onboarding.rendering.sealing.seal`
  (PAdES B-B, RSA 2048, the self-signed certificate an installation makes);
- added: the median of (render + seal) - render over the pairs, and the seal alone
  (median) on the rendered bytes; the check (:func:`sealing.check`, pyHanko's
  validator) is timed too, as Verify runs it.

The figures replace the "## Sealing a PDF (bench/sign.py)" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import write_section  # noqa: E402
from onboarding import assess  # noqa: E402
from onboarding.rendering import sealing  # noqa: E402
from onboarding.rendering.pdf import NoCache, render_agreement  # noqa: E402

EXAMPLES = ["calm-founder", "burned-marketer", "hands-on-director"]
DAY = dt.date(2026, 11, 27)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=25, help="seals of the same bytes")
    parser.add_argument("--pairs", type=int, default=7, help="render / render + seal pairs")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    sealer = sealing.load_sealer(sealing.make_certificate("Brightline Studio Ltd"))
    rows = []
    for name in EXAMPLES:
        answers = json.loads((ROOT / "examples" / f"{name}.json").read_text())
        result = assess(answers)

        def render(answers=answers, result=result):
            return render_agreement(answers, result, date=DAY, cache=NoCache()).pdf

        pdf = render()
        sealing.seal(pdf, sealer)  # warm-up: pyHanko's imports, the key
        sealing.check(sealing.seal(pdf, sealer), [sealer.certificate])
        added, renders = [], []
        for _ in range(args.pairs):
            start = time.perf_counter()
            render()
            plain = time.perf_counter() - start
            start = time.perf_counter()
            sealing.seal(render(), sealer)
            both = time.perf_counter() - start
            renders.append(plain)
            added.append(both - plain)
        alone, cpu, checks = [], [], []
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            sealed = sealing.seal(pdf, sealer)
            alone.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            start = time.perf_counter()
            state = sealing.check(sealed, [sealer.certificate]).state
            checks.append(time.perf_counter() - start)
            assert state == "intact", state
        rows.append(
            (
                name,
                len(pdf) // 1024,
                statistics.median(renders),
                statistics.median(added),
                statistics.median(alone),
                statistics.median(cpu),
                statistics.median(checks),
            )
        )
        print(
            f"{name}: {len(pdf) // 1024} KiB, render {ms(rows[-1][2])} ms, seal adds "
            f"{ms(rows[-1][3])} ms (paired), seal alone {ms(rows[-1][4])} ms wall, "
            f"{ms(rows[-1][5])} ms CPU, check {ms(rows[-1][6])} ms"
        )
    worst = max(r[5] for r in rows)
    lines = [
        f"Medians: {args.pairs} paired runs per example (render, then render + seal, back "
        f"to back: 'seal adds'), and {args.repeat} seals of the same bytes ('seal alone': "
        "wall clock, and this process's CPU time, which other processes on a busy machine "
        "do not inflate); the check is pyHanko's validator as Verify runs it.",
        "",
        "| agreement | PDF | render | seal adds (paired) | seal alone (wall) | seal alone (CPU) "
        "| check (Verify) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, kib, render_s, added_s, alone_s, cpu_s, check_s in rows:
        lines.append(
            f"| {name} | {kib} KiB | {ms(render_s)} ms | {ms(added_s)} ms | "
            f"{ms(alone_s)} ms | {ms(cpu_s)} ms | {ms(check_s)} ms |"
        )
    lines += [
        "",
        "On a shared machine a render varies by hundreds of milliseconds from one run to "
        "the next, so the paired difference is that noise (it can be negative); the seal "
        "alone, timed on the same bytes, is the cost signing adds.",
        "",
        f"Budget: signing adds at most 50 ms to a PDF; the worst seal's CPU time here: "
        f"{ms(worst)} ms ({'within' if worst <= 0.050 else 'OVER'} the budget).",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Sealing a PDF (bench/sign.py)", body)


if __name__ == "__main__":
    main()
