"""The parties to an agreement as the party block states them (pure Python): each
one's legal name and form, registered number (labelled by what it is: a company
number, an LLP number), address, VAT and purchase order numbers, and the person who
signs for it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_LLP = re.compile(r"\b(LLP|L\.L\.P\.|limited liability partnership)\b", re.IGNORECASE)
_COMPANY = re.compile(
    r"\b(Ltd|Limited|plc|p\.l\.c\.|CIC|private limited company|public limited company"
    r"|company limited by guarantee)\b\.?",
    re.IGNORECASE,
)


def number_label(legal_name: str, legal_form: str = "", explicit: str = "") -> str:
    """What a party's registered number is called: the profile's own label when it
    sets one, "LLP number" for a limited liability partnership (a Scottish LLP's
    number starts SO), "Company number" for a company, else "Registered number"."""
    if explicit.strip():
        return explicit.strip()
    for text in (legal_form, legal_name):
        if _LLP.search(text or ""):
            return "LLP number"
    for text in (legal_form, legal_name):
        if _COMPANY.search(text or ""):
            return "Company number"
    return "Registered number"


def client_details(terms_client: Mapping[str, Any] | None) -> dict[str, Any]:
    """The client's legal details as the terms set them (``client``), blanks dropped."""
    return {k: v for k, v in dict(terms_client or {}).items() if v not in (None, "", {})}
