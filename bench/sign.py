"""Benchmark of the agency's seal (issue 29): what signing adds to a record PDF.

    .venv/bin/python bench/sign.py [--repeat 15] [--no-write]

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
    parser.add_argument("--repeat", type=int, default=15)
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
        added, alone, checks, renders = [], [], [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            render()
            plain = time.perf_counter() - start
            start = time.perf_counter()
            sealed = sealing.seal(render(), sealer)
            both = time.perf_counter() - start
            start = time.perf_counter()
            sealing.seal(pdf, sealer)
            alone.append(time.perf_counter() - start)
            start = time.perf_counter()
            state = sealing.check(sealed, [sealer.certificate]).state
            checks.append(time.perf_counter() - start)
            assert state == "intact", state
            renders.append(plain)
            added.append(both - plain)
        rows.append(
            (
                name,
                len(pdf) // 1024,
                statistics.median(renders),
                statistics.median(added),
                statistics.median(alone),
                statistics.median(checks),
            )
        )
        print(
            f"{name}: {len(pdf) // 1024} KiB, render {ms(rows[-1][2])} ms, seal adds "
            f"{ms(rows[-1][3])} ms (paired), seal alone {ms(rows[-1][4])} ms, "
            f"check {ms(rows[-1][5])} ms"
        )
    worst = max(r[4] for r in rows)
    lines = [
        f"Median of {args.repeat} paired runs per example (render, then render + seal, "
        "back to back); the seal alone and the check on the same bytes.",
        "",
        "| agreement | PDF | render | seal adds (paired) | seal alone | check (Verify) |",
        "|---|---|---|---|---|---|",
    ]
    for name, kib, render_s, added_s, alone_s, check_s in rows:
        lines.append(
            f"| {name} | {kib} KiB | {ms(render_s)} ms | {ms(added_s)} ms | "
            f"{ms(alone_s)} ms | {ms(check_s)} ms |"
        )
    lines += [
        "",
        f"Budget: signing adds at most 50 ms to a PDF; worst seal alone here: {ms(worst)} ms "
        f"({'within' if worst <= 0.050 else 'OVER'} the budget).",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Sealing a PDF (bench/sign.py)", body)


if __name__ == "__main__":
    main()
