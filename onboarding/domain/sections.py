"""The agreement's sections, in the order it presents them: the playbooks file their
clauses under them, and the engagement terms and the clause templates name them. Its own
module, below the playbooks, the terms and the templates, so that none imports another
for it."""

SECTIONS: dict[str, str] = {
    "parties": "Parties",
    "goals": "Goals and success measures",
    "scope": "Scope and fees",
    "process": "Process and milestones",
    "communication": "Communication and update cadence",
    "availability": "Availability and response times",
    "decision_rights": "Creative control and decision rights",
    "revisions": "Revisions and change requests",
    "collaboration": "Working together",
    "concerns": "Safeguards",
    "escalation": "Escalation",
    "term": "Term and exit",
}
"""Section id -> its heading, in the agreement's order (the standard sections the terms
add follow them: :data:`onboarding.domain.terms.STANDARD_SECTIONS`)."""
