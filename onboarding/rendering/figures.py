"""Figures drawn as SVG for the agreement and the workspace: the roadmap and the risk
chart, readable without colour (every bar is named, values are in text)."""

from __future__ import annotations

from markupsafe import Markup, escape

from onboarding.domain.agreement import Roadmap
from onboarding.domain.playbooks import CAUSE_LABELS

PHASE_COLOURS = ("#23395d", "#3b5f96", "#0b6e4f", "#3d9273", "#a86a12")
"""Bar colours by phase; every bar is also named, so colour is never the only cue."""

_SVG_W, _LEFT, _RIGHT = 680, 150, 672
_AXIS_Y, _TOP, _ROW, _BAR = 14, 26, 28, 16


def _f(value: float) -> str:
    """A coordinate with at most one decimal (stable text, small files)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _label_step(weeks: int) -> int:
    for step in (1, 2, 4, 5, 8, 10, 13, 26):
        if weeks / step <= 13:
            return step
    return 26


def roadmap_svg(roadmap: Roadmap, *, id_prefix: str = "roadmap") -> Markup:
    """The roadmap as inline SVG: a bar per phase, week ticks, reviews and updates.

    Every text is escaped; ``<title>`` and ``<desc>`` describe the whole figure in words.
    """
    weeks = max(1, roadmap.weeks)
    unit = (_RIGHT - _LEFT) / weeks

    def x_start(week: int) -> float:
        return _LEFT + (week - 1) * unit

    def x_end(week: int) -> float:
        return _LEFT + week * unit

    rows = len(roadmap.phases)
    review_y = _TOP + rows * _ROW + _ROW / 2
    update_y = review_y + _ROW
    legend_y = update_y + _ROW + 4
    height = legend_y + 10
    grid_bottom = update_y + 8
    e = escape
    out: list[str] = []
    add = out.append
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    phases_words = "; ".join(
        f"{p.name}, {p.weeks.lower()}: {p.deliverable.lower()}" for p in roadmap.phases
    )
    reviews = ", ".join(str(w) for w in roadmap.review_weeks)
    desc = (
        f"A {weeks}-week plan in {rows} phases. {phases_words}. Reviews with sign-off in "
        f"week{'s' if len(roadmap.review_weeks) != 1 else ''} {reviews}. "
        f"Updates: {roadmap.cadence}."
    )
    if roadmap.cycle:  # a retainer: one month, repeated
        desc = (
            f"Each month of the retainer, in {rows} phases. {phases_words}. A monthly review "
            f"in week {reviews}. Updates: {roadmap.cadence}."
        )
    add(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="roadmap__svg" '
        f'viewBox="0 0 {_SVG_W} {_f(height)}" width="{_SVG_W}" height="{_f(height)}" '
        f'role="img" aria-labelledby="{e(title_id)} {e(desc_id)}" '
        f'font-family="Inter, sans-serif">'
    )
    title = "Each month of the retainer" if roadmap.cycle else "Project roadmap"
    add(f'<title id="{e(title_id)}">{title}</title>')
    add(f'<desc id="{e(desc_id)}">{e(desc)}</desc>')

    # Week grid and axis labels. Each kind of mark is one <path> of sub-paths rather
    # than an element per week: the figure is drawn the same, from a few nodes.
    step = _label_step(weeks)
    labelled = sorted({1, weeks, *range(1, weeks + 1, step)})
    if len(labelled) > 2 and labelled[-1] - labelled[-2] < step / 2:
        labelled.pop(-2)  # keep the last label clear of its neighbour
    grid = "".join(
        f"M{_f(x_start(week))} {_TOP - 4}V{_f(grid_bottom)}"
        for week in range(1, weeks + 2)
        if week in labelled or week == weeks + 1 or weeks <= 26
    )
    add(f'<path class="roadmap__grid" d="{grid}" stroke="#e3e6ea" stroke-width="1" fill="none"/>')
    add('<g class="roadmap__axis" font-size="10" fill="#555d66" text-anchor="middle">')
    add(f'<text x="{_LEFT - 10}" y="{_AXIS_Y}" text-anchor="end">Week</text>')
    for week in labelled:
        x = _f(x_start(week) + unit / 2)
        add(f'<text x="{x}" y="{_AXIS_Y}">{week}</text>')
    add("</g>")

    # One bar per phase, named on the left with its weeks.
    for i, phase in enumerate(roadmap.phases):
        y = _TOP + i * _ROW
        mid = y + _ROW / 2
        colour = PHASE_COLOURS[i % len(PHASE_COLOURS)]
        x0, x1 = x_start(phase.start_week), x_end(phase.end_week)
        span = phase.weeks.replace("Weeks ", "wk ").replace("Week ", "wk ")
        add(
            f'<text x="0" y="{_f(mid + 4)}" font-size="11.5" font-weight="600" '
            f'fill="#1b1f24">{e(phase.name)}</text>'
        )
        add(
            f'<text x="{_LEFT - 10}" y="{_f(mid + 4)}" font-size="10" fill="#555d66" '
            f'text-anchor="end">{e(span)}</text>'
        )
        add(
            f'<rect x="{_f(x0 + 1)}" y="{_f(mid - _BAR / 2)}" width="{_f(max(2, x1 - x0 - 2))}" '
            f'height="{_BAR}" rx="3" fill="{colour}"/>'
        )

    # Reviews: a dashed line down from the end of each phase to a diamond.
    add(
        f'<text x="0" y="{_f(review_y + 4)}" font-size="11.5" font-weight="600" '
        f'fill="#1b1f24">Reviews</text>'
    )
    if roadmap.review_weeks:
        d = 6
        lines = diamonds = ""
        for week in roadmap.review_weeks:
            x = x_end(week)
            lines += f"M{_f(x)} {_TOP + 4}V{_f(review_y - 7)}"
            diamonds += (
                f"M{_f(x)} {_f(review_y - d)}L{_f(x + d)} {_f(review_y)}"
                f"L{_f(x)} {_f(review_y + d)}L{_f(x - d)} {_f(review_y)}Z"
            )
        add(
            f'<path class="roadmap__reviews" d="{lines}" stroke="#23395d" stroke-width="1" '
            f'stroke-dasharray="2 2" fill="none"/>'
        )
        add(f'<path class="roadmap__reviews" d="{diamonds}" fill="#23395d"/>')

    # Written updates: a small mark in each week that has one.
    add(
        f'<text x="0" y="{_f(update_y + 4)}" font-size="11.5" font-weight="600" '
        f'fill="#1b1f24">Updates</text>'
    )
    marks = ""
    for week in roadmap.update_weeks:
        x = x_start(week) + unit / 2
        if unit >= 7:  # a dot of radius 3, as two arcs
            marks += f"M{_f(x - 3)} {_f(update_y)}a3 3 0 1 0 6 0a3 3 0 1 0 -6 0Z"
        else:  # a thin tick
            marks += f"M{_f(x - 0.6)} {_f(update_y - 5)}h1.2v10h-1.2Z"
    if marks:
        add(f'<path class="roadmap__updates" d="{marks}" fill="#0b6e4f"/>')

    # Legend, in words.
    ly = legend_y
    add('<g class="roadmap__legend" font-size="10" fill="#555d66">')
    add(
        f'<path d="M{_LEFT + 5} {_f(ly - 9)} L{_LEFT + 10} {_f(ly - 4)} L{_LEFT + 5} {_f(ly + 1)} '
        f'L{_LEFT} {_f(ly - 4)} Z" fill="#23395d"/>'
    )
    add(f'<text x="{_LEFT + 16}" y="{_f(ly)}">Review and sign-off</text>')
    if unit >= 7:
        add(f'<circle cx="{_LEFT + 140}" cy="{_f(ly - 4)}" r="3" fill="#0b6e4f"/>')
    else:
        add(f'<rect x="{_LEFT + 139.4}" y="{_f(ly - 9)}" width="1.2" height="10" fill="#0b6e4f"/>')
    add(f'<text x="{_LEFT + 149}" y="{_f(ly)}">{e(_sentence(roadmap.cadence))}</text>')
    add("</g>")
    add("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text above went through escape()


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def risk_level(value: int) -> str:
    """A word for a 0..100 risk."""
    return "high" if value >= 60 else "medium" if value >= 30 else "low"


def risk_chart(
    risks: dict[str, int], width: int = 340, labels: dict[str, str] | None = None
) -> Markup:
    """One bar per cause, its name above it and its value in words beside it, drawn
    narrow so that the text stays readable on a phone (about 14 px at 280 px wide); at
    its own width (app.css caps it there) its labels are the body text's 17 px.
    ``labels``: the assessment's ``risk_labels`` (the causes' names for these answers).

    ``<title>`` and ``<desc>`` give the whole chart in words (its text equivalent);
    every text is escaped once.
    """
    row, bar_w, bar_h = 46, 230, 14
    height = row * len(risks) + 4
    colours = {"high": "#b10e1e", "medium": "#8a5a00", "low": "#0b6e4f"}
    labels = {**CAUSE_LABELS, **(labels or {})}
    words = "; ".join(f"{labels[c]}: {v} of 100 ({risk_level(v)})" for c, v in risks.items())
    parts = [
        Markup(
            '<svg class="risk-chart" role="img" aria-labelledby="risk-title risk-desc" '
            'viewBox="0 0 {w} {h}" width="100%" xmlns="http://www.w3.org/2000/svg">'
            '<title id="risk-title">Risk profile over the six causes of micromanagement</title>'
            '<desc id="risk-desc">{desc}</desc>'
        ).format(w=width, h=height, desc=words)
    ]
    for tick in (30, 60):  # where medium and high begin
        x = bar_w * tick / 100
        parts.append(
            Markup(
                '<line x1="{x}" y1="0" x2="{x}" y2="{y}" stroke="#c9ced4" stroke-dasharray="3 3"/>'
            ).format(x=_f(x), y=height)
        )
    for i, (cause, value) in enumerate(risks.items()):
        y = i * row
        level = risk_level(value)
        w = max(2, bar_w * value / 100)
        parts.append(
            Markup(
                '<text x="0" y="{ty}" font-size="17" fill="#1b1f24">{label}</text>'
                '<rect x="0" y="{ry}" width="{w}" height="{h}" rx="3" fill="{fill}"{opacity}/>'
                '<rect x="0" y="{ry}" width="{full}" height="{h}" rx="3" fill="none" '
                'stroke="#c9ced4"/>'
                '<text x="{vx}" y="{vy}" font-size="16" fill="#1b1f24">{value} {level}</text>'
            ).format(
                ty=y + 17,
                label=labels[cause],
                ry=y + 24,
                w=_f(w),
                h=bar_h,
                fill=colours[level],
                opacity=Markup(' fill-opacity="0.55"') if level == "medium" else "",
                full=bar_w,
                vx=bar_w + 8,
                vy=y + 36,
                value=value,
                level=level,
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
