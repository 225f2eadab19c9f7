"""Where the product's authored folders are: the source tree, or the installed copy."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def project_dir(name: str) -> Path:
    """A top-level project folder (``templates``, ``playbooks``, ``examples``).

    In a source checkout it is the folder beside the package; an installed wheel
    carries a copy under ``onboarding/_bundled/``.
    """
    source = PACKAGE.parent / name
    return source if source.is_dir() else PACKAGE / "_bundled" / name
