"""Derm-Assist as a Hugging Face Space: the workshop's web app with the model running inside the Space.

Decision support, not a diagnosis. Public or synthetic images only: never upload a patient's photo.
Build the folder to upload with `make space` (it puts the pack's `helpers` package beside this file).
"""

import os
from pathlib import Path

from helpers import webapp

MODEL_ID = "Anwarkh1/Skin_Cancer-Image_Classification"  # to swap the model, change this line (same 7 labels)

HERE = Path(__file__).resolve().parent
handlers = webapp.space_handlers(os.environ.get("DERM_ASSIST_SPACE_MODEL", MODEL_ID), examples_dir=HERE / "examples")
demo = webapp.space_blocks(handlers, os.environ.get("DERM_ASSIST_SPACE_MODEL", MODEL_ID))

if __name__ == "__main__":
    demo.queue(default_concurrency_limit=webapp.CONCURRENCY).launch(show_error=False, footer_links=[])
