"""Read the paper templates and the example data the non-interactive path fills from."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from ..core.config import TEMPLATES_DIR
from ..core.errors import DermAssistError

EXAMPLES_DIR = TEMPLATES_DIR / "examples"
_HEADING = re.compile(r"^##\s+(.+?)\s*$")


def template_path(filename: str) -> Path:
    """The path of a template; a clear error if the pack is incomplete."""
    path = TEMPLATES_DIR / filename
    if not path.is_file():
        raise DermAssistError(f"Template {path} is missing. Restore it from the repository (git checkout templates/).")
    return path


@cache
def guidance(filename: str) -> dict[str, str]:
    """``{section heading: guidance}`` from a Markdown template.

    Guidance is the ``> quoted`` text right under each ``## heading``; forms show it as help, so
    the paper template and the widget ask the same question.
    """
    found: dict[str, str] = {}
    heading = None
    for line in template_path(filename).read_text(encoding="utf-8").splitlines():
        match = _HEADING.match(line)
        if match:
            heading = match.group(1)
            found[heading] = ""
        elif heading and line.startswith(">"):
            found[heading] = (found[heading] + " " + line.lstrip("> ").strip()).strip()
    return found


def example(name: str) -> dict:
    """The realistic example record for worksheet ``name`` (``templates/examples/<name>.json``)."""
    path = EXAMPLES_DIR / f"{name}.json"
    if not path.is_file():
        raise DermAssistError(f"Example data {path} is missing. Restore it from the repository.")
    return json.loads(path.read_text(encoding="utf-8"))
