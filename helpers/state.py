"""The small state file that remembers the learner's endpoint, so nobody pastes a name anywhere."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .core.config import work_dir as resolve_work_dir
from .core.errors import BadInputError, DermAssistError
from .core.files import atomic_write_text

STATE_FILE = "state.json"


def state_path(work_dir=None) -> Path:
    return resolve_work_dir(work_dir) / STATE_FILE


def load_state(work_dir=None) -> dict[str, Any]:
    path = state_path(work_dir)
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        raise BadInputError(f"{path} is damaged. Delete it and re-run notebook 01 (your endpoint is not affected).") from None


def save_state(state: dict[str, Any], work_dir=None) -> Path:
    path = state_path(work_dir)
    atomic_write_text(path, json.dumps(state, indent=2, sort_keys=True) + "\n")
    return path


STARTED_KEY = "started_early"  # deploys a notebook started ahead of the one that uses them (00 for 01, 03 for 04)


def remember_endpoint(name: str, model_id: str, *, serverless: bool = False, work_dir=None) -> dict[str, Any]:
    """Record ``name`` as the live endpoint (and keep a short history of earlier ones)."""
    state = load_state(work_dir)
    previous = state.get("endpoint_name")
    history = [h for h in state.get("history", []) if h.get("endpoint_name") != name]
    if previous and previous != name:
        history.append({"endpoint_name": previous, "model_id": state.get("model_id"), "until": _now()})
    state.update(
        endpoint_name=name,
        model_id=model_id,
        serverless=serverless,
        remembered_at=_now(),
        history=history[-10:],
    )
    save_state(state, work_dir)
    return state


def forget_endpoint(name: str, work_dir=None) -> None:
    """Drop ``name`` from the state file (after it was deleted)."""
    state = load_state(work_dir)
    started = state.get(STARTED_KEY, [])
    if state.get("endpoint_name") == name or any(s.get("endpoint_name") == name for s in started):
        if state.get("endpoint_name") == name:
            for key in ("endpoint_name", "model_id", "serverless", "remembered_at"):
                state.pop(key, None)
        state[STARTED_KEY] = [s for s in started if s.get("endpoint_name") != name]
        save_state(state, work_dir)


def remember_started(name: str, model_id: str, *, serverless: bool = False, by: str = "", work_dir=None) -> dict[str, Any]:
    """Record a deploy started ahead of time, so the notebook that needs it waits for it and cleanup deletes it."""
    state = load_state(work_dir)
    started = [s for s in state.get(STARTED_KEY, []) if s.get("endpoint_name") != name]
    started.append({"endpoint_name": name, "model_id": model_id, "serverless": serverless, "by": by, "started_at": _now()})
    state[STARTED_KEY] = started
    save_state(state, work_dir)
    return state


def started_endpoints(work_dir=None) -> list[dict[str, Any]]:
    """The deploys notebooks started ahead of time (endpoint name, model, who started it and when), oldest first."""
    return list(load_state(work_dir).get(STARTED_KEY, []))


def current_endpoint(work_dir=None) -> str:
    """The remembered endpoint name, or a one-line error saying how to get one."""
    name = load_state(work_dir).get("endpoint_name")
    if not name:
        raise DermAssistError(
            "No endpoint remembered yet. Run notebook 01 (or `derm-assist deploy`) first, or pass an endpoint name."
        )
    return name


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
