"""The prospect's comments (change requests), each about one clause of the version they
read or the agreement as a whole: several per version, which stays open until a new one
is sent. Each clause on the page has its own "Comment on this clause" link
(:func:`clause_choice` finds the clause it names).

The clauses offered are the ones on the page the prospect reads, numbered as they see
them (tailored clauses ``4.2 Title``, standard terms ``12.3 Title.``), read from the
version's content (the data the page was rendered from). The thread has no column for a
clause: a request about one starts with ``About clause 4.2 (Title): `` in its text, which
the manager reads as is.

A request puts the intake in the manager's "needs your attention" queue
(:func:`onboarding.services.intake.attention.attention_condition`) until a reply or a new
version answers it. Callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from onboarding.db.models import AgreementMessage, AgreementVersion
from onboarding.domain import redline as redlines
from onboarding.services.agreement import answers, versions
from onboarding.services.intake.workspace import WorkspaceError, required_text

MISSING_COMMENT = "Tell us what you would like changed"
UNKNOWN_CLAUSE = (
    "That clause is not in this version: use “Comment on this clause” beside a clause, "
    "or comment on the agreement as a whole"
)


@dataclass(frozen=True)
class ClauseChoice:
    """A clause the prospect may point at: its number and title as the page shows them."""

    number: str  # "4.2"
    title: str
    section: str = ""  # "4 Plan and milestones": the section it belongs to
    text: str = ""  # the clause as the page shows it

    @property
    def anchor(self) -> str:
        """The clause's HTML id on the page (``clause-4-2``, as compose names it)."""
        return "clause-" + self.number.replace(".", "-")

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}"

    def prefix(self) -> str:
        """How a request about this clause begins in the thread."""
        return f"About clause {self.number} ({self.title}): "


def clause_choices(version: AgreementVersion) -> list[ClauseChoice]:
    """The clauses of the page the prospect reads, in order, numbered as the page numbers
    them (sections in order, ``4.2``: the second clause of the fourth): read from the
    version's content, the data the page was rendered from, never from its HTML. None
    for a version whose prospect reads the PDF, or one sent before versions kept their
    content (the request is then about the agreement as a whole)."""
    if version.html is None or not version.content:
        return []
    numbers = redlines.clause_numbers(version.content)
    seen: set[str] = set()
    choices = []
    for i, section in enumerate(version.content.get("sections") or (), start=1):
        heading = " ".join(f"{i} {section.get('title') or ''}".split())
        for clause in section.get("clauses") or ():
            number = numbers.get(str(clause.get("id")), "")
            title = " ".join(str(clause.get("title") or "").split()).rstrip(".").strip()
            if number and title and number not in seen:
                seen.add(number)
                text = " ".join(str(clause.get("text") or "").split())
                choices.append(ClauseChoice(number, title, heading, text))
    return choices


def clause_choice(version: AgreementVersion, number: str | None) -> ClauseChoice | None:
    """The clause numbered ``number`` on the version's page, or None."""
    wanted = (number or "").strip()
    if not wanted:
        return None
    return next((c for c in clause_choices(version) if c.number == wanted), None)


def request_changes(
    version: AgreementVersion,
    comment: str,
    clause: str | None = None,
) -> AgreementMessage:
    """The prospect asks for changes, about one clause (its number, one of
    :func:`clause_choices`) or the agreement as a whole (``clause`` empty).

    Raises WorkspaceError with every field's problem (``comment``, ``clause``), or the
    refusal of :func:`answers.record_change_request` for a version no longer open.
    """
    if version.status != "sent" or version.intake.status != "agreement_sent":
        return answers.record_change_request(version, comment)  # refuses, saying why
    errors: dict[str, str] = {}
    choice = None
    wanted = (clause or "").strip()
    if wanted:
        choice = clause_choice(version, wanted)
        if choice is None:
            errors["clause"] = UNKNOWN_CLAUSE
    prefix = choice.prefix() if choice else ""
    try:
        text = required_text(
            comment, "comment", MISSING_COMMENT, versions.MAX_COMMENT - len(prefix)
        )
    except WorkspaceError as exc:
        errors = {**exc.errors, **errors}
        text = ""
    if errors:
        field, message = next(iter(errors.items()))
        raise WorkspaceError(field, message, errors)
    return answers.record_change_request(version, prefix + text)
