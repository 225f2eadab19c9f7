"""Server-rendered SVG charts, readable without colour (labels and values in text)."""

from __future__ import annotations

from markupsafe import Markup, escape

from onboarding.domain.playbooks import CAUSE_LABELS


def risk_level(value: int) -> str:
    """A word for a 0..100 risk."""
    return "high" if value >= 60 else "medium" if value >= 30 else "low"


def risk_chart(risks: dict[str, int], width: int = 520) -> Markup:
    """Horizontal bars, one per cause, with the value and a word (high/medium/low)."""
    row, label_w, bar_w = 34, 170, width - 170 - 90
    height = row * len(risks) + 28
    colours = {"high": "#b10e1e", "medium": "#8a5a00", "low": "#0b6e4f"}
    parts = [
        f'<svg class="risk-chart" role="img" aria-labelledby="risk-title risk-desc" '
        f'viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">',
        '<title id="risk-title">Risk profile over the six causes of micromanagement</title>',
        '<desc id="risk-desc">'
        + escape(
            "; ".join(f"{CAUSE_LABELS[c]}: {v} of 100 ({risk_level(v)})" for c, v in risks.items())
        )
        + "</desc>",
    ]
    for tick in (0, 30, 60, 100):
        x = label_w + bar_w * tick / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{height - 22}" stroke="#c9ced4" '
            f'stroke-dasharray="{"0" if tick in (0, 100) else "3 3"}"/>'
            f'<text x="{x:.1f}" y="{height - 6}" font-size="11" fill="#555d66" '
            f'text-anchor="middle">{tick}</text>'
        )
    for i, (cause, value) in enumerate(risks.items()):
        y = 6 + i * row
        level = risk_level(value)
        w = max(2, bar_w * value / 100)
        parts.append(
            f'<text x="{label_w - 10}" y="{y + 17}" font-size="13" text-anchor="end" '
            f'fill="#1b1f24">{escape(CAUSE_LABELS[cause])}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="18" rx="3" '
            f'fill="{colours[level]}"'
            + (' fill-opacity="0.55"' if level == "medium" else "")
            + "/>"
            f'<text x="{label_w + bar_w + 8}" y="{y + 17}" font-size="13" fill="#1b1f24">'
            f"{value} {level}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()
