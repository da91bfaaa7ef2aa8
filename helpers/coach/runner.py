"""Execute every notebook with papermill against the mock and write an HTML report.

This is what ``make workshop`` and CI run: it starts the local mock in this process, points the
notebook kernels at it through the environment, executes the notebooks in order into ``build/``,
renders each to HTML, and writes ``build/index.html`` with the wall time of every notebook.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from ..core.config import NOTEBOOKS_DIR, REPO_ROOT
from ..core.errors import BadInputError, DermAssistError, redact
from ..curveball.cards import card_ids, get_card

KERNEL_NAME = "python3"  # Studio's kernel names do not exist in CI: always pass one explicitly
CURVEBALL_CARDS = card_ids()  # the curveball notebook runs once per card
CURVEBALL_NOTEBOOK = "05_curveball.ipynb"
# A cell that runs longer than this is hung (the slowest, a serverless redeploy against the mock, takes seconds).
CELL_TIMEOUT_SECONDS = 300


@dataclass
class NotebookRun:
    source: str
    output: Path
    seconds: float
    ok: bool
    error: str = ""
    parameters: dict | None = None


def notebooks(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The learner notebooks in teaching order (their numeric prefix)."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def plan(selected: list[Path], cards: tuple[str, ...] = CURVEBALL_CARDS) -> list[tuple[Path, str, dict]]:
    """(notebook, output name, parameters) for each execution; the curveball runs once per card.

    Card ids are checked (and spelled as the cards spell them) before anything runs.
    """
    ids = [get_card(card).id for card in cards]
    runs = []
    for nb in selected:
        if nb.name == CURVEBALL_NOTEBOOK:
            runs += [(nb, f"{nb.stem}--{card}.ipynb", {"CURVEBALL": card}) for card in ids]
        else:
            runs.append((nb, nb.name, {}))
    return runs


def run_all(
    out_dir: Path = REPO_ROOT / "build",
    selected: list[Path] | None = None,
    *,
    with_mock: bool = True,
    fresh_work_dir: bool = True,
    cards: tuple[str, ...] = CURVEBALL_CARDS,
    extra_parameters: dict | None = None,
    stop_on_error: bool = False,
    report: bool = True,
    faults: dict | None = None,
    cell_timeout: float = CELL_TIMEOUT_SECONDS,
) -> list[NotebookRun]:
    """Execute the notebooks (all by default) into ``out_dir`` and write the report.

    ``faults`` (mock only), e.g. ``{"throttle_rate": 0.2, "model_error_rate": 0.05}``, are injected into the
    mock before the first notebook: a rehearsal of a bad day on AWS. How often each fired is in the report.
    A cell running longer than ``cell_timeout`` seconds fails its notebook (a hang, not a slow machine).
    """
    import papermill as pm

    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / "work"
    if fresh_work_dir and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    selected = selected or notebooks()
    if not selected:
        raise BadInputError(f"No notebooks found in {NOTEBOOKS_DIR}.")
    executions = plan(selected, cards)  # an unknown card id fails here, before the mock starts
    if faults and not with_mock:
        raise BadInputError("Faults can only be injected into the local mock: run with the mock.")

    from ..mock import MockServer, control

    mock = MockServer() if with_mock else None
    saved_env = dict(os.environ)
    runs: list[NotebookRun] = []
    started_all = time.perf_counter()
    try:
        with mock if mock else nullcontext():
            if mock:
                os.environ.update(mock.environment())
                print(f"Local mock of SageMaker at {mock.url}")
                control(mock.url, "reset", {})  # an empty account, even in a process that served a mock before
                mock.seed()
                if faults:
                    try:
                        control(mock.url, "faults", {"global": faults})
                    except OSError as exc:  # urllib's URLError; its HTTPError carries the mock's reason in its body
                        reason = exc.read().decode(errors="replace") if hasattr(exc, "read") else str(exc)
                        raise BadInputError(f"The mock refused the faults {faults}: {reason}") from None
                    print(f"Faults injected for the whole run: {faults}")
            os.environ["DERM_ASSIST_WORK_DIR"] = str(work)  # the notebooks' WORK_DIR=None resolves to it
            os.environ["DERM_ASSIST_NONINTERACTIVE"] = "1"
            os.environ.setdefault("DERM_ASSIST_OWNER", "workshop-ci")
            os.environ["MPLBACKEND"] = "Agg"
            for notebook, output_name, params in executions:
                output = out_dir / output_name
                parameters = {"INTERACTIVE": False, **params, **(extra_parameters or {})}
                started = time.perf_counter()
                try:
                    pm.execute_notebook(
                        str(notebook), str(output), parameters=parameters, kernel_name=KERNEL_NAME,
                        cwd=str(notebook.parent), progress_bar=False, log_output=False, execution_timeout=cell_timeout,
                    )
                    run = NotebookRun(notebook.name, output, time.perf_counter() - started, True, parameters=parameters)
                # Catch-all on purpose: a failed notebook (PapermillExecutionError with the cell's error, a cell timeout, a dead or missing
                # kernel, a bad parameter) must become a FAILED row with its reason, never end the run unreported.
                except Exception as exc:  # noqa: BLE001
                    message = redact(" ".join(str(getattr(exc, "evalue", exc)).split()))[:300]
                    run = NotebookRun(notebook.name, output, time.perf_counter() - started, False, message, parameters)
                runs.append(run)
                status = "ok" if run.ok else f"FAILED: {run.error}"
                print(f"  {output_name:<48} {run.seconds:6.1f} s  {status}", flush=True)
                if not run.ok and stop_on_error:
                    break
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
    total = time.perf_counter() - started_all
    print(f"All notebooks: {sum(r.seconds for r in runs):.1f} s executing, {total:.1f} s wall time.")
    mock_stats = None
    if mock:
        mock_stats = {"faults": faults or {}, "invocations": mock.state.invocations, "injected": dict(mock.state.injected)}
        if faults:
            print(f"Mock: {mock_stats['invocations']} invocations; faults that fired: {mock_stats['injected'] or 'none'}.")
    if report:
        write_report(out_dir, runs, total, work, mock_stats)
    return runs


def _to_html(notebook_path: Path) -> Path:
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter()
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nbformat.read(str(notebook_path), as_version=4))
    out = notebook_path.with_suffix(".html")
    out.write_text(body, encoding="utf-8")
    return out


def write_report(out_dir: Path, runs: list[NotebookRun], total_seconds: float, work: Path, mock_stats: dict | None = None) -> Path:
    """``index.html``: one row per executed notebook (link, wall time, status) and the example portfolio."""
    rows = []
    for run in runs:
        link = ""
        if run.output.exists():
            try:
                link = _to_html(run.output).name
            except Exception as exc:  # noqa: BLE001 - a broken render must not hide the other notebooks; its reason goes in the row
                run.error = run.error or f"HTML render failed: {exc}"
        name = html.escape(run.output.name)
        cell = f'<a href="{html.escape(link)}">{name}</a>' if link else name
        status = "ok" if run.ok else f"FAILED — {html.escape(run.error)}"
        css = "ok" if run.ok else "bad"
        rows.append(f'<tr><td>{cell}</td><td class="num">{run.seconds:.1f} s</td><td class="{css}">{status}</td></tr>')
    portfolio = _example_portfolio(out_dir, work)
    portfolio_html = (
        f'<p><a href="{html.escape(portfolio.name)}">Example learner portfolio</a> (built from the worksheets the notebooks filled).</p>'
        if portfolio else "<p>No example portfolio (the worksheets were not filled).</p>"
    )
    passed = sum(r.ok for r in runs)
    faults_html = ""
    if mock_stats and mock_stats.get("faults"):
        fired = ", ".join(f"{k} {v}" for k, v in sorted(mock_stats["injected"].items())) or "none"
        faults_html = (f"<p>Fault rehearsal: {html.escape(str(mock_stats['faults']))} injected into the mock; "
                       f"{mock_stats['invocations']} invocations, faults that fired: {html.escape(fired)}.</p>")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Derm-Assist workshop — execution report</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #1a1a1a; line-height: 1.5; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ border-bottom: 1px solid #ccc; padding: .4rem .6rem; text-align: left; }}
.num {{ text-align: right; font-variant-numeric: tabular-nums; }} .ok {{ color: #0b6b2f; }} .bad {{ color: #a4000f; font-weight: bold; }}
.banner {{ background: #fff4ce; border-left: 4px solid #8a6d00; padding: .6rem 1rem; }}
</style></head><body>
<h1>Derm-Assist workshop — execution report</h1>
<p class="banner">Executed against the <strong>local mock of SageMaker</strong>: no AWS account, no internet. Predictions come from
stand-ins (recordings of a real ImageNet CNN, a local CNN, or a simulated skin classifier), each marked as such in the notebooks.</p>
<p>{passed} of {len(runs)} notebook runs succeeded. Total wall time {total_seconds:.1f} s
(notebooks alone {sum(r.seconds for r in runs):.1f} s).</p>
{faults_html}
<table><thead><tr><th>Notebook</th><th class="num">Wall time</th><th>Status</th></tr></thead><tbody>
{''.join(rows)}
</tbody></table>
<h2>Worksheets</h2>
{portfolio_html}
</body></html>
"""
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    (out_dir / "timings.json").write_text(
        json.dumps({"total_seconds": round(total_seconds, 2), "runs": [{"notebook": r.output.name, "seconds": round(r.seconds, 2), "ok": r.ok} for r in runs],
                    **({"mock": mock_stats} if mock_stats else {})}, indent=2),
        encoding="utf-8",
    )
    print(f"Report: {index}")
    return index


def _example_portfolio(out_dir: Path, work: Path) -> Path | None:
    try:
        from .. import worksheets
    except ImportError:
        return None
    try:
        return Path(worksheets.build_portfolio(work_dir=work, out_path=out_dir / "example_portfolio.html"))
    except DermAssistError as exc:
        print(f"Example portfolio not built: {exc}")
        return None
