"""Benchmark of the agreement PDF: our renderer against bare WeasyPrint, and the cache.

    .venv/bin/python bench/pdf.py [--repeat 7] [--no-write]

For each example answer file it prints the median of ``--repeat`` runs (after one
warm-up) of:

- ours: ``render_agreement(..., cache=NoCache())``, i.e. compose + HTML + PDF, rendered
  in the render worker process (time and memory caps; the HTML and the PDF cross a
  pipe), with the stylesheet and fonts parsed once per worker, the restricted fetcher,
  tagged PDF/UA;
- bare: ``HTML(string=html, base_url=static/).write_pdf()`` on the same final HTML
  (with the stylesheet linked, so the same fonts are available), default options, a
  new font configuration and stylesheet parse per render, as a plain setup does;
- bare + tags: the same with ``pdf_variant="pdf/ua-1"`` (what our options cost);
- the cached repeat download (``render_agreement`` with a warm ``MemoryCache``);
- pages per second, and memory: tracemalloc peak of one render in this (the app's)
  process, Python objects only; the render worker's peak resident and address-space
  size (VmHWM, VmPeak: C libraries included; the memory cap applies to the latter);
  this process's ru_maxrss (it also runs the bare renders).

The figures replace the "## PDF" section of bench/RESULTS.md (other sections stay).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import json
import os
import platform
import re
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import weasyprint  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from onboarding import assess  # noqa: E402
from onboarding.domain.agreement import compose  # noqa: E402
from onboarding.rendering.pdf import (  # noqa: E402
    STATIC_DIR,
    MemoryCache,
    NoCache,
    get_renderer,
    html_for,
    render_agreement,
)

EXAMPLES = ["calm-founder", "burned-marketer", "hands-on-director"]
DAY = dt.date(2026, 11, 27)
RESULTS = ROOT / "bench" / "RESULTS.md"


def median_time(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return match.group(1).strip() if match else "unknown CPU"


def worker_memory() -> dict[str, float]:
    """The render worker's peak resident and address-space sizes, in MiB (Linux)."""
    renderer = get_renderer()
    try:
        status = Path(f"/proc/{renderer.pid}/status").read_text()
    except OSError:
        return {}
    sizes = dict(re.findall(r"^(VmHWM|VmPeak):\s+(\d+) kB", status, re.M))
    return {
        "worker_rss_mb": int(sizes["VmHWM"]) / 1024,
        "worker_vm_mb": int(sizes["VmPeak"]) / 1024,
        "worker_cap_mb": renderer.memory_mb,
    }


def bench(repeat: int) -> tuple[list[str], dict[str, float]]:
    get_renderer().setup_fetches  # noqa: B018 - starts the worker: not part of a render
    rows = []
    totals = {"ratio": [], "hit_share": []}
    for name in EXAMPLES:
        answers = json.loads((ROOT / "examples" / f"{name}.json").read_text())
        assessment = assess(answers)
        agreement = compose(answers, assessment, date=DAY)
        bare_html = html_for(agreement, static_base=STATIC_DIR.as_uri() + "/", trace="appendix")
        base = STATIC_DIR.as_uri() + "/"

        def ours(answers=answers, assessment=assessment):
            return render_agreement(answers, assessment, date=DAY, cache=NoCache())

        def bare(html=bare_html, base=base):
            return weasyprint.HTML(string=html, base_url=base).write_pdf()

        def bare_tagged(html=bare_html, base=base):
            return weasyprint.HTML(string=html, base_url=base).write_pdf(pdf_variant="pdf/ua-1")

        pdf = ours().pdf
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        bare_pages = len(PdfReader(io.BytesIO(bare())).pages)
        t_ours = median_time(ours, repeat)
        t_bare = median_time(bare, repeat)
        t_tagged = median_time(bare_tagged, repeat)

        cache = MemoryCache()
        render_agreement(answers, assessment, date=DAY, cache=cache)

        def hit(answers=answers, assessment=assessment, cache=cache):
            result = render_agreement(answers, assessment, date=DAY, cache=cache)
            assert result.cached
            return result

        t_hit = median_time(hit, max(repeat, 50))

        gc.collect()
        tracemalloc.start()
        ours()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        ratio = t_ours / t_bare
        totals["ratio"].append(ratio)
        totals["hit_share"].append(t_hit / t_ours)
        rows.append(
            f"{name:<18} {pages:>5} {t_ours * 1000:>8.0f} {t_bare * 1000:>8.0f} "
            f"{t_tagged * 1000:>9.0f} {ratio:>6.2f} {pages / t_ours:>8.1f} "
            f"{peak / 2**20:>9.1f} {t_hit * 1e6:>9.0f} {t_hit / t_ours:>7.2%}"
            + ("" if bare_pages == pages else f"  (bare: {bare_pages} pages)")
        )
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = {
        "worst_ratio": max(totals["ratio"]),
        "worst_hit_share": max(totals["hit_share"]),
        "maxrss_mb": maxrss,
        **worker_memory(),
    }
    return rows, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per figure (5-7)")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()

    rows, summary = bench(args.repeat)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = (
        f"{os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}, "
        f"WeasyPrint {weasyprint.__version__}, {platform.system()} {platform.release()}"
    )
    header = (
        f"{'example':<18} {'pages':>5} {'ours ms':>8} {'bare ms':>8} {'+tags ms':>9} "
        f"{'ratio':>6} {'pages/s':>8} {'peak MiB':>9} {'hit us':>9} {'hit/ren':>7}"
    )
    lines = [header, *rows, ""]
    lines.append(f"worst ours/bare ratio   {summary['worst_ratio']:.2f}   (target <= 1.10)")
    lines.append(f"worst cached / render   {summary['worst_hit_share']:.2%}  (target <= 1%)")
    if "worker_rss_mb" in summary:
        lines.append(
            f"render worker peak      {summary['worker_rss_mb']:.0f} MiB resident, "
            f"{summary['worker_vm_mb']:.0f} MiB address space "
            f"(cap {summary['worker_cap_mb']} MiB)"
        )
    lines.append(f"bench process max RSS   {summary['maxrss_mb']:.0f} MiB (runs the bare renders)")
    report = "\n".join(lines)
    print(f"Measured {now} on {machine}; median of {args.repeat} runs.\n")
    print(report)
    if args.no_write:
        return
    section = (
        "## PDF (bench/pdf.py)\n\n"
        f"Measured {now} on {machine}. Median of {args.repeat} runs after a warm-up;\n"
        "ours = `render_agreement(..., cache=NoCache())` (compose + HTML + tagged PDF/UA,\n"
        "rendered in the capped render worker process, stylesheet and fonts parsed once\n"
        "per worker); bare = `HTML(string=...).write_pdf()`\n"
        "on the same final HTML with default options and a fresh setup per render; +tags =\n"
        'bare with `pdf_variant="pdf/ua-1"`; peak = tracemalloc peak of one render in the\n'
        "app process (Python allocations only; the render itself is in the worker, whose\n"
        "peak is given below); hit = a repeat download served by the in-memory cache.\n\n"
        f"```\n{report}\n```\n"
    )
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## PDF\b.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)
    print(f"\nUpdated {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
