"""Text that is safe to show: control characters out of logs and terminals, refused in
what people type, and the rate settings ("10 per 15 minutes") read once.

Pure Python: the web layer, the services and the command line all use these.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The bidirectional controls (embeddings, overrides, isolates, marks): U+202E makes
# "\u202etsivqdniL xelA" display as "Alex Lindqvist". Nobody types them in a name.
_BIDI = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_JOINERS = "\u200c\u200d"  # format characters some scripts and emoji need
_SHOWN = re.compile(_CONTROLS.pattern[:-1] + _BIDI.pattern[1:])
MAX_ID = 2**63 - 1
"""The largest id a 64-bit signed database column holds: a larger one is a 404/422."""


def printable(value: object, limit: int = 500) -> str:
    """``value`` as one line for a log or a terminal: every control character (CR, LF,
    ESC, ...) and bidirectional control (U+202E, ...) shown as an escape (``\\n``,
    ``\\x1b``, ``\\u202e``), never acted on; cut to ``limit``."""
    text = str(value)
    out = _SHOWN.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def control_problem(value: str, *, multiline: bool) -> str | None:
    """Why ``value`` cannot be stored as typed text, or None: no control characters but
    tab and newline (and a carriage return before a newline), no bidirectional controls
    (a right-to-left override shows a name backwards); a single-line field (a name)
    refuses line breaks and every other invisible format character too (zero-width
    joiners aside)."""
    for index, char in enumerate(value):
        if char == "\t" or (multiline and char == "\n"):
            continue
        if multiline and char == "\r" and value[index + 1 : index + 2] == "\n":
            continue
        if _CONTROLS.match(char) or unicodedata.category(char) == "Cc":
            if char in "\r\n" and not multiline:
                return "must be on one line"
            return "contains a control character that cannot be typed: remove it"
        if _BIDI.match(char) or (
            not multiline and unicodedata.category(char) == "Cf" and char not in _JOINERS
        ):
            return (
                "contains an invisible formatting character (such as a text-direction "
                "mark): remove it"
            )
    return None


def bounded_id(raw: object) -> int | None:
    """``raw`` as a database id (a whole number from 1 to :data:`MAX_ID`), or None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 19:
        number = int(raw)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"\s*(\d+)\s*(?:per|/)\s*(\d+)?\s*(second|minute|hour|day)s?\s*", re.I)


def parse_rate(text: str) -> tuple[int, int]:
    """``"10 per 15 minutes"`` as ``(10, 900)``: a count and a window in seconds.
    Raises ValueError naming the expected shape."""
    match = _RATE.fullmatch(text or "")
    if not match or int(match.group(1)) < 1 or (match.group(2) and int(match.group(2)) < 1):
        raise ValueError(f"{text!r} is not a rate such as '10 per 15 minutes'")
    count, every, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3).lower()
    return count, every * _UNITS[unit]


_ENDS_SENTENCE = (".", "!", "?", "…")


def full_stop(text: object) -> str:
    """``text`` ending a sentence: a full stop added, unless it already ends with one
    (or ``!``, ``?``, ``…``) — "Northwind Tea Co." stays as it is, never "Co..".
    Trailing spaces go; an empty text stays empty."""
    value = str(text or "").rstrip()
    if not value or value.endswith(_ENDS_SENTENCE):
        return value
    return value + "."
