"""Progress bars for long waits (deploys, batches, explanations).

A widget bar in Jupyter, a text bar in a terminal, and none when nothing is watching (papermill and
CI set DERM_ASSIST_NONINTERACTIVE=1), so saved notebooks do not show a frozen "0%".
"""

from __future__ import annotations

import os


def progress_bar(iterable=None, *, enabled: bool = True, **kwargs):
    from tqdm.auto import tqdm

    watching = os.environ.get("DERM_ASSIST_NONINTERACTIVE") != "1"
    return tqdm(iterable, disable=not (enabled and watching), **kwargs)
