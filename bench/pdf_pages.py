"""Render cost per page of our agreements: the renderer at the start of issue 18 against
today's, step by step, in one run.

    .venv/bin/python bench/pdf_pages.py [--rounds 7] [--no-write]

Every example answer file is rendered twice over, as a draft (no commercial terms: what
a manager previews first) and with its ``.terms.json`` (what is sent and signed). Each
render runs in this process, with the render worker's options (tagged PDF/UA-1, the
packaged Inter fonts embedded and subset, the restricted fetcher, one font configuration
and parsed stylesheet per variant), under each cumulative step of STEPS:

0. the baseline: the stylesheet and roadmap figure as they were at the start of issue 18
   (kept in ``bench/pdf_baseline/``), with Python's cyclic garbage collector running
   during the render, as the render worker did;
1. the roadmap drawn with a few ``<path>`` elements instead of an element per mark;
2. tabular figures only where figures line up (tables, the cover, the contents);
3. no cyclic garbage collection during a render (the worker collects once it has
   replied) - the renderer as shipped: its PDF is checked to be byte for byte the one
   the application's renderer makes.

Times are the CPU time of the rendering process (``time.process_time``), the median of
``--rounds`` rounds; each round renders every document under every step in a shuffled
order, so that a noisy neighbour hits all steps alike. Wall-clock medians are printed
beside them. The figures replace the "Render cost per page of the agreement" section
of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import weasyprint  # noqa: E402
from weasyprint import CSS, HTML  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402

from bench.pdf_baseline.roadmap import roadmap_svg as baseline_roadmap_svg  # noqa: E402
from bench.results import machine, write_section  # noqa: E402
from onboarding import assess  # noqa: E402
from onboarding.domain.agreement import compose  # noqa: E402
from onboarding.domain.terms import parse_terms  # noqa: E402
from onboarding.rendering.engine import STATIC_DIR, STYLESHEET, PdfRenderer, fetcher  # noqa: E402
from onboarding.rendering.figures import roadmap_svg  # noqa: E402
from onboarding.rendering.pdf import html_for  # noqa: E402

EXAMPLES = ["calm-founder", "burned-marketer", "hands-on-director"]
DAY = dt.date(2026, 11, 27)
BASELINE_CSS = (ROOT / "bench" / "pdf_baseline" / "agreement.css").read_text()


@dataclass(frozen=True)
class Step:
    name: str  # what the change is
    why: str  # why it costs nothing the reader needs
    css: str
    baseline_roadmap: bool
    collect_during_render: bool


STEPS = [
    Step(
        "baseline (start of issue 18)",
        "the stylesheet, figure and worker as they were",
        BASELINE_CSS,
        baseline_roadmap=True,
        collect_during_render=True,
    ),
    Step(
        "roadmap: a few <path>s",
        "grid, review lines, diamonds and update dots as one path each; same drawing",
        BASELINE_CSS,
        baseline_roadmap=False,
        collect_during_render=True,
    ),
    Step(
        "tabular figures in tables only",
        "prose keeps proportional figures; tables, cover and contents still line up",
        STYLESHEET.read_text(),
        baseline_roadmap=False,
        collect_during_render=True,
    ),
    Step(
        "no GC during a render",
        "the worker collects once it has replied; the PDF is the same bytes",
        STYLESHEET.read_text(),
        baseline_roadmap=False,
        collect_during_render=False,
    ),
]


@dataclass
class Document:
    name: str
    html: str  # today's HTML
    baseline_html: str  # the same agreement with the baseline's roadmap figure
    identifier: bytes


def documents() -> list[Document]:
    docs = []
    for name in EXAMPLES:
        answers = json.loads((ROOT / "examples" / f"{name}.json").read_text())
        assessment = assess(answers)
        terms_file = ROOT / "examples" / f"{name}.terms.json"
        for label, terms in (
            ("draft", None),
            ("terms", parse_terms(json.loads(terms_file.read_text()))),
        ):
            agreement = compose(answers, assessment, date=DAY, terms=terms)
            html = html_for(agreement, static_base=None, trace="appendix")
            new_svg = str(roadmap_svg(agreement.roadmap))
            old_svg = str(baseline_roadmap_svg(agreement.roadmap))
            assert html.count(new_svg) == 1, "the roadmap figure is not in the HTML once"
            docs.append(
                Document(
                    f"{name} ({label})",
                    html,
                    html.replace(new_svg, old_svg),
                    agreement.sha256[:32].encode(),
                )
            )
    return docs


class StepRenderer:
    """WeasyPrint as :class:`PdfRenderer` drives it, with one step's stylesheet."""

    def __init__(self, step: Step):
        self.step = step
        self.font_config = FontConfiguration()
        self.stylesheet = CSS(
            string=step.css,
            base_url=STATIC_DIR.as_uri() + "/",
            url_fetcher=fetcher(STATIC_DIR),
            font_config=self.font_config,
        )

    def render(self, doc: Document) -> tuple[bytes, int]:
        html = doc.baseline_html if self.step.baseline_roadmap else doc.html
        if not self.step.collect_during_render:
            gc.disable()
        try:
            document = HTML(
                string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher(STATIC_DIR)
            ).render(
                font_config=self.font_config,
                stylesheets=[self.stylesheet],
                pdf_variant="pdf/ua-1",
                pdf_tags=True,
            )
            pdf = document.write_pdf(
                pdf_variant="pdf/ua-1", pdf_tags=True, pdf_identifier=doc.identifier
            )
        finally:
            gc.enable()
        return pdf, len(document.pages)


def bench(rounds: int) -> str:
    docs = documents()
    renderers = [StepRenderer(step) for step in STEPS]
    shipped = PdfRenderer()
    pages: dict[tuple[int, str], int] = {}
    for i, renderer in enumerate(renderers):  # warm-up, page counts
        for doc in docs:
            pdf, pages[i, doc.name] = renderer.render(doc)
            if i == len(renderers) - 1:
                assert pdf == shipped.render(doc.html, identifier=doc.identifier).pdf, (
                    f"the last step is not the shipped renderer ({doc.name})"
                )
            if i == 0:
                assert pdf == renderer.render(doc)[0], f"not deterministic ({doc.name})"
    cpu: dict[tuple[int, str], list[float]] = {key: [] for key in pages}
    wall: dict[tuple[int, str], list[float]] = {key: [] for key in pages}
    shuffle = random.Random(18).shuffle
    for _ in range(rounds):
        for doc in docs:
            order = list(range(len(renderers)))
            shuffle(order)
            for i in order:
                gc.collect()
                c0, w0 = time.process_time(), time.perf_counter()
                renderers[i].render(doc)
                cpu[i, doc.name].append(time.process_time() - c0)
                wall[i, doc.name].append(time.perf_counter() - w0)

    def per_page(i: int, times, names=None) -> float:
        names = names or [doc.name for doc in docs]
        total = sum(statistics.median(times[i, n]) for n in names)
        return total * 1000 / sum(pages[i, n] for n in names)

    last = len(STEPS) - 1
    lines = [
        f"{'document':<32} {'pages':>5} {'baseline ms/page':>17} {'today ms/page':>14} {'ratio':>6}"
    ]
    for doc in docs:
        before, after = per_page(0, cpu, [doc.name]), per_page(last, cpu, [doc.name])
        page_count = f"{pages[0, doc.name]}" + (
            "" if pages[0, doc.name] == pages[last, doc.name] else f"->{pages[last, doc.name]}"
        )
        lines.append(
            f"{doc.name:<32} {page_count:>5} {before:>17.1f} {after:>14.1f} {after / before:>6.2f}"
        )
    lines += [
        "",
        f"{'step (cumulative)':<32} {'ms/page':>8} {'vs baseline':>12} "
        f"{'this step':>10} {'wall ms/page':>13}  why it costs the reader nothing",
    ]
    base = per_page(0, cpu)
    previous = base
    for i, step in enumerate(STEPS):
        now = per_page(i, cpu)
        gain = "" if i == 0 else f"{now / previous - 1:+.1%}"
        lines.append(
            f"{step.name:<32} {now:>8.1f} {now / base:>12.3f} {gain:>10} "
            f"{per_page(i, wall):>13.1f}  {step.why}"
        )
        previous = now
    total_pages = sum(pages[last, doc.name] for doc in docs)
    lines += [
        "",
        f"today / baseline, ms per page of CPU: {per_page(last, cpu) / base:.3f} "
        f"over {len(docs)} documents, {total_pages} pages (target <= 0.75)",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (median)")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    report = bench(args.rounds)
    print(f"{machine()}, WeasyPrint {weasyprint.__version__}; median of {args.rounds} rounds.\n")
    print(report)
    if args.no_write:
        return
    write_section(
        "Render cost per page of the agreement (bench/pdf_pages.py)",
        f"WeasyPrint {weasyprint.__version__}. CPU time of the rendering process per page, "
        f"median of {args.rounds} interleaved rounds (each round renders every document "
        "under every step, in a shuffled order); the baseline is the stylesheet, roadmap "
        "figure and worker at the start of issue 18, measured in the same run; the last "
        "step's PDFs are checked to be byte for byte those of the shipped renderer. "
        "Each example is rendered as a draft and with its terms (.terms.json).\n\n"
        f"```\n{report}\n```",
    )
    print("\nUpdated bench/RESULTS.md")


if __name__ == "__main__":
    main()
