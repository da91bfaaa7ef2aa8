"""The workshop's model cards (``model_cards/*.md``, one per model of :mod:`helpers.models`), side by side."""

from __future__ import annotations

from pathlib import Path

import yaml

from . import models
from .core.errors import DermAssistError

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


def load_cards(specs=models.ALL) -> dict[str, dict]:
    """Cards by Hugging Face model id, from the card path the registry gives each model."""
    cards = {}
    for spec in specs:
        if not spec.card_path.is_file():
            raise DermAssistError(f"No model card for {spec.id} at {spec.card}. Add one (copy an existing card).")
        card = load_card(spec.card_path)
        if card.get("hugging_face_id") != spec.id:
            raise DermAssistError(f"{spec.card} describes {card.get('hugging_face_id')!r}, not {spec.id}. Fix its hugging_face_id.")
        cards[spec.id] = card
    return cards


def compare(*model_ids: str):
    """A table with one column per model (default: every model the pack knows) and one row per field of the card."""
    import pandas as pd

    specs = [models.get(m) for m in model_ids] if model_ids else list(models.ALL)
    cards = load_cards(specs)
    table = pd.DataFrame({cards[s.id]["name"]: [str(cards[s.id].get(f, "—")) for f in FIELDS] for s in specs},
                         index=[f.replace("_", " ") for f in FIELDS])
    table.index.name = "field"
    return table
