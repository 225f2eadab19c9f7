"""Assess 10,000 generated answer sets in one process; print throughput and medians.

    python bench/assess.py [--n 10000]

Prints assessments per second, the median microseconds per assessment, beside the
time of validating alone in the same run (the baseline), and the playbook load time.
Targets: >= 5,000 assessments per second on one core; playbook loading < 200 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results import write_section  # noqa: E402
from onboarding.domain.assessment import evaluate  # noqa: E402
from onboarding.domain.playbooks import default_playbooks_dir, load_playbooks  # noqa: E402
from onboarding.domain.questionnaire import get_questionnaire  # noqa: E402
from onboarding.domain.samples import random_answers  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()

    questionnaire = get_questionnaire()
    loads = []
    for _ in range(7):
        start = time.perf_counter()
        playbooks = load_playbooks(default_playbooks_dir(), questionnaire)
        loads.append(time.perf_counter() - start)
    load_ms = statistics.median(loads) * 1000

    rng = random.Random(2026)
    answer_sets = [random_answers(rng, questionnaire) for _ in range(args.n)]

    validate_times, assess_times = [], []
    total_start = time.perf_counter()
    for answers in answer_sets:
        t0 = time.perf_counter()
        clean, errors = questionnaire.validate(answers)
        t1 = time.perf_counter()
        assert not errors
        evaluate(clean, playbooks, questionnaire)
        t2 = time.perf_counter()
        validate_times.append(t1 - t0)
        assess_times.append(t2 - t0)
    total = time.perf_counter() - total_start

    per_second = args.n / total
    med_assess = statistics.median(assess_times) * 1e6
    med_validate = statistics.median(validate_times) * 1e6
    p95 = statistics.quantiles(assess_times, n=20)[-1] * 1e6
    lines = [
        f"answer sets assessed     {args.n:,} (validate + evaluate, one process, one core)",
        f"assessments per second   {per_second:,.0f}   (target >= 5,000)",
        f"median per assessment    {med_assess:,.1f} us   (p95 {p95:,.1f} us)",
        f"median validation alone  {med_validate:,.1f} us   "
        f"(assessment / validation = {med_assess / med_validate:.2f}x)",
        f"playbook loading         {load_ms:,.1f} ms median of 7  (target < 200 ms; "
        f"{len(playbooks.rules)} rules)",
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section("Assessment (bench/assess.py)", "```\n" + "\n".join(lines) + "\n```")


if __name__ == "__main__":
    main()
