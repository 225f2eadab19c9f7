"""The prospect's change request, optionally about one clause of the version they read.

The clauses offered are the ones on the page the prospect reads (the version's frozen
HTML, numbered as they see them: tailored clauses ``4.2 Title``, standard terms
``12.3 Title.``). The thread has no column for a clause: a request about one starts
with ``About clause 4.2 (Title): `` in its text, which the manager reads as is.

A request puts the intake in the manager's "needs your attention" queue
(:func:`onboarding.services.intake.listing.attention_condition`) until a reply or a new
version answers it. Callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from onboarding.db.models import AgreementMessage, AgreementVersion
from onboarding.services.agreement import answers, versions
from onboarding.services.intake.workspace import WorkspaceError, required_text

NUMBER_CLASSES = frozenset({"clause__num", "terms-clause__num", "section__num"})
TITLE_CLASSES = frozenset({"clause__title", "terms-clause__title"})
SECTION_CLASSES = frozenset({"section__title", "terms-section__title"})
MISSING_COMMENT = "Tell us what you would like changed"
UNKNOWN_CLAUSE = "Choose a clause from the list, or “The agreement as a whole”"


@dataclass(frozen=True)
class ClauseChoice:
    """A clause the prospect may point at: its number and title as the page shows them."""

    number: str  # "4.2"
    title: str
    section: str = ""  # "4 Plan and milestones": the section it belongs to

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}"

    def prefix(self) -> str:
        """How a request about this clause begins in the thread."""
        return f"About clause {self.number} ({self.title}): "


class _ClauseHeadings(HTMLParser):
    """Collects (number, title, section) from the agreement's clause headings, in page
    order (the section: the number and title of the section heading above it)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []
        self.section = ""
        self._section: list[str] | None = None  # collecting a section heading
        self._section_tag = ""
        self._number: list[str] | None = None  # collecting a number
        self._number_tag = ""
        self._title: list[str] | None = None  # collecting a title
        self._title_tag = ""
        self._last_number = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        if classes & SECTION_CLASSES and self._section is None:
            self._section, self._section_tag = [], tag
        elif self._section is not None:
            pass  # the section's number is part of its heading's text
        elif classes & NUMBER_CLASSES:
            self._number, self._number_tag = [], tag
        elif classes & TITLE_CLASSES and self._title is None:
            self._title, self._title_tag = [], tag

    def handle_data(self, data: str) -> None:
        if self._section is not None:
            self._section.append(data)
        elif self._number is not None:
            self._number.append(data)
        elif self._title is not None:
            self._title.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._section is not None:
            if tag == self._section_tag:
                self.section = " ".join("".join(self._section).split())
                self._section = None
        elif self._number is not None and tag == self._number_tag:
            self._last_number = " ".join("".join(self._number).split())
            self._number = None
        elif self._title is not None and tag == self._title_tag:
            title = " ".join("".join(self._title).split()).rstrip(".").strip()
            if self._last_number and title:
                self.found.append((self._last_number, title, self.section))
            self._title, self._last_number = None, ""


def clause_choices(version: AgreementVersion) -> list[ClauseChoice]:
    """The clauses of the page the prospect reads, in order (none for a version whose
    prospect reads the PDF). Raises AgreementCorrupted when the page does not match
    its SHA-256."""
    page = versions.verified_page(version)
    if page is None:
        return []
    parser = _ClauseHeadings()
    parser.feed(page.html)
    parser.close()
    seen: set[str] = set()
    choices = []
    for number, title, section in parser.found:
        if number not in seen:
            seen.add(number)
            choices.append(ClauseChoice(number, title, section))
    return choices


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
        choice = next((c for c in clause_choices(version) if c.number == wanted), None)
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
