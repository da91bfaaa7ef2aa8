"""The workshop's model cards (``model_cards/*.md``) and their side-by-side comparison."""

from __future__ import annotations

from pathlib import Path

import yaml

from .core.config import REPO_ROOT
from .core.errors import DermAssistError

CARDS_DIR = REPO_ROOT / "model_cards"
FIELDS = ("architecture", "parameters", "training_data", "label_space", "intended_use", "reported_metrics", "known_gaps", "licence")


def load_card(path: Path) -> dict:
    """The front matter between the first two ``---`` lines, plus the Markdown body."""
    text = Path(path).read_text(encoding="utf-8")
    parts = text.split("---", 2)
    if len(parts) < 3 or parts[0].strip():
        raise DermAssistError(f"{path} has no front matter (a block between two '---' lines at the top).")
    facts = yaml.safe_load(parts[1]) or {}
    facts["body"] = parts[2].strip()
    return facts


def load_cards(folder: Path = CARDS_DIR) -> dict[str, dict]:
    """Cards by Hugging Face model id."""
    return {card["hugging_face_id"]: card for card in (load_card(p) for p in sorted(folder.glob("*.md")))}


def compare(*model_ids: str, folder: Path = CARDS_DIR):
    """A table with one column per model and one row per field of the card."""
    import pandas as pd

    cards = load_cards(folder)
    missing = [m for m in model_ids if m not in cards]
    if missing:
        raise DermAssistError(f"No model card for {', '.join(missing)} in {folder}. Add one (copy an existing card).")
    chosen = model_ids or tuple(cards)
    table = pd.DataFrame({cards[m]["name"]: [str(cards[m].get(f, "—")) for f in FIELDS] for m in chosen},
                         index=[f.replace("_", " ") for f in FIELDS])
    table.index.name = "field"
    return table
