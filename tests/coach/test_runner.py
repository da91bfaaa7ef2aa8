"""The execution plan: every learner notebook once, the curveball once per card."""

from pathlib import Path

import pytest

from helpers.coach import runner
from helpers.core.errors import BadInputError
from helpers.curveball import card_ids

NOTEBOOKS = [Path("04_skin_mvp.ipynb"), Path(runner.CURVEBALL_NOTEBOOK), Path("99_cleanup.ipynb")]


def test_the_curveball_runs_once_per_card_the_cards_define():
    assert runner.CURVEBALL_CARDS == card_ids()
    planned = runner.plan(NOTEBOOKS)
    curveball = [(name, params) for nb, name, params in planned if nb.name == runner.CURVEBALL_NOTEBOOK]
    assert [params["CURVEBALL"] for _name, params in curveball] == list(card_ids())
    assert [name for name, _params in curveball] == [f"05_curveball--{card}.ipynb" for card in card_ids()]
    assert [name for _nb, name, _p in planned if not name.startswith("05_")] == ["04_skin_mvp.ipynb", "99_cleanup.ipynb"]


def test_chosen_cards_take_the_cards_spelling_and_unknown_ones_fail_before_running(tmp_path):
    planned = runner.plan(NOTEBOOKS, cards=("Data_Bias",))
    assert [p for _nb, _name, p in planned if p] == [{"CURVEBALL": "data-bias"}]
    with pytest.raises(BadInputError, match="budget-cut"):
        runner.plan(NOTEBOOKS, cards=("budget-cuts",))
    with pytest.raises(BadInputError, match="alien"):
        runner.run_all(tmp_path, NOTEBOOKS, cards=("alien",), report=False)
    assert not (tmp_path / "05_curveball--alien.ipynb").exists()
