"""Assessments per second and playbook loading, this code against a baseline, one run.

    python bench/assess.py [--n 10000] [--rounds 5] [--baseline 801e1ec] [--no-write]

The baseline is another commit's code (by default the one before issue 28), unpacked
with ``git archive`` into a temporary folder. Each round runs one process per side, in
alternating order, on the same seeded answer sets (the generated ones and the shipped
examples); every figure is the median over the rounds, and the ratio is ours against
the baseline measured in the same run. Times are CPU time of the measuring process
(``time.process_time``): the machine is shared, and wall time there measures the
neighbours as much as the code.

Targets (issue 28): >= 20,000 assessments a second in one process; loading the shipped
playbooks < 50 ms in a warm process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "801e1ec"  # main before issue 28: interpreted validation and conditions

WORKER = r"""
import gc, json, random, statistics, sys, time
from pathlib import Path
root = Path(sys.argv[1]); n = int(sys.argv[2])
sys.path.insert(0, str(root))
start = time.process_time()
import onboarding
from onboarding.domain.playbooks import default_playbooks_dir, load_playbooks
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.domain.samples import random_answers
imported = time.process_time() - start
q = get_questionnaire()
start = time.process_time()
playbooks = load_playbooks(default_playbooks_dir(), q)
first_load = time.process_time() - start
loads = []
for _ in range(7):
    start = time.process_time()
    load_playbooks(default_playbooks_dir(), q)
    loads.append(time.process_time() - start)
rng = random.Random(2026)
generated = [random_answers(rng, q) for _ in range(n)]
examples = [json.loads(p.read_text()) for p in sorted((root / "examples").glob("*.json"))
            if not p.name.endswith(".terms.json")]
examples = [a for a in examples if isinstance(a, dict) and "contact_email" in a]
def rate(sets):
    for answers in sets[:200]:
        onboarding.assess(answers, playbooks)  # warm: first renders, caches
    gc.collect()
    start = time.process_time()
    for answers in sets:
        onboarding.assess(answers, playbooks)
    return len(sets) / (time.process_time() - start)
def validation(sets):
    start = time.process_time()
    for answers in sets:
        q.validate(answers)
    return (time.process_time() - start) / len(sets)
print(json.dumps({
    "generated": rate(generated),
    "examples": rate(examples * max(1, n // max(1, len(examples)))),
    "example_files": len(examples),
    "validation_us": validation(generated) * 1e6,
    "load_ms": statistics.median(loads) * 1000,
    "first_load_ms": first_load * 1000,
    "import_ms": imported * 1000,
    "rules": len(playbooks.rules),
}))
"""


def unpack(revision: str, into: Path) -> Path:
    """The tree of ``revision`` in ``into`` (git archive: no worktree metadata)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def measure(root: Path, n: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", WORKER, str(root), str(n)],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.results import write_section

    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        base_root = unpack(args.baseline, Path(tmp))
        runs: dict[str, list[dict]] = {"baseline": [], "ours": []}
        for i in range(args.rounds):
            order = [("baseline", base_root), ("ours", ROOT)]
            for side, root in order if i % 2 == 0 else order[::-1]:
                runs[side].append(measure(root, args.n))

    def med(side: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[side])

    rows = [
        ("assessments/s, generated sets", "generated", "{:,.0f}", True),
        ("assessments/s, example files", "examples", "{:,.0f}", True),
        ("validation alone, us", "validation_us", "{:,.1f}", False),
        ("playbook load (warm), ms", "load_ms", "{:,.1f}", False),
        ("first load in a process, ms", "first_load_ms", "{:,.1f}", False),
        ("imports (onboarding), ms", "import_ms", "{:,.1f}", False),
    ]
    lines = [
        f"{args.n:,} generated answer sets and the {runs['ours'][0]['example_files']} example "
        f"files, onboarding.assess (validate + evaluate) in one process; CPU time, median of "
        f"{args.rounds} rounds, baseline {args.baseline} (before issue 28) in the same run, "
        "sides alternating",
        "",
        f"{'':34} {'baseline':>10} {'ours':>10}  {'ours/baseline':>13}",
    ]
    for label, key, fmt, _ in rows:
        base, ours = med("baseline", key), med("ours", key)
        lines.append(
            f"{label:34} {fmt.format(base):>10} {fmt.format(ours):>10}  {ours / base:>12.2f}x"
        )
    lines += [
        "",
        f"targets: >= 20,000 assessments/s (ours {med('ours', 'generated'):,.0f}); warm "
        f"playbook load < 50 ms (ours {med('ours', 'load_ms'):.1f} ms, "
        f"{runs['ours'][0]['rules']} rules)",
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section("Assessment (bench/assess.py)", "```\n" + "\n".join(lines) + "\n```")


if __name__ == "__main__":
    main()
