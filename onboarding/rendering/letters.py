"""The proposal letter as HTML and PDF (:mod:`onboarding.domain.proposal`)."""

from __future__ import annotations

import hashlib
import json

from onboarding.domain.proposal import Proposal
from onboarding.rendering.documents import PAPER, environment
from onboarding.rendering.isolation import Renderer, get_renderer


def proposal_html(proposal: Proposal, *, static_base: str | None = None, paper: str = "a4",
                  block: str | None = None) -> str:  # fmt: skip
    """The letter as a whole HTML document, or only its content (``block="letter"``, for
    the prospect's page)."""
    if paper not in PAPER:
        raise ValueError(f"paper must be one of {', '.join(PAPER)} (got {paper!r})")
    template = environment().get_template("proposal/letter.html")
    context = {"p": proposal, "paper_css": PAPER[paper], "static_base": static_base}
    if block is not None:
        return "".join(template.blocks[block](template.new_context(context)))
    return template.render(context)


def proposal_pdf(
    proposal: Proposal, *, paper: str = "a4", renderer: Renderer | None = None
) -> tuple[bytes, int]:
    """The letter as PDF bytes, and its page count (``renderer``: another than the
    process's render worker)."""
    digest = hashlib.sha256(
        json.dumps(proposal.as_json(), sort_keys=True).encode() + paper.encode()
    ).hexdigest()
    renderer = get_renderer() if renderer is None else renderer
    result = renderer.render(proposal_html(proposal, paper=paper), identifier=digest[:32].encode())
    return result.pdf, result.pages
