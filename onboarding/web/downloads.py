"""Files the web hands out: the headers that name them."""

from __future__ import annotations

from urllib.parse import quote


def content_disposition(filename: str) -> str:
    """An attachment header that keeps non-ASCII names (RFC 6266 / 5987)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
