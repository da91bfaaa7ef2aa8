"""Drive a real JupyterLab 4 in Debian's Chromium, as a learner does: open a notebook, Run All from the
Run menu, type into worksheet forms, press Save, restart the kernel, reload the page.

The server runs on a free loopback port with a token, over a temporary root folder that holds COPIES of the
learner notebooks (the repository's notebooks are never opened). Each scenario gets its own sub-folder and work
folder: ``WORK_DIR`` and any other parameter are injected after the cell tagged ``parameters``, as papermill does.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers.core.config import NOTEBOOKS_DIR, REPO_ROOT

CHROMIUM = Path(os.environ.get("DERM_ASSIST_CHROMIUM", "/usr/bin/chromium"))
# This machine (and CI) has no network: nothing may phone home, and Chromium runs without a sandbox as root.
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FAILURES_DIR = REPO_ROOT / "build" / "browser-failures"

WIDGET_ERROR = "Error displaying widget"
WIDGET_LOADING = "Loading widget..."
# What a widget looks like when no widget manager renders it: its Python repr as plain text.
RAW_WIDGET_REPR = re.compile(r"\b(?:VBox|HBox|Box|Tab|Accordion|Button|Text|Textarea|Output|FileUpload|Dropdown|HTML|Image|"
                             r"IntText|FloatSlider|Checkbox|Combobox|IntProgress|FloatProgress)\((?:children|value|description|layout)=")


def missing_requirement() -> str | None:
    """Why the browser tests cannot run here (one line), or ``None`` when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[browser]')"
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        return "JupyterLab is not installed (pip install -e '.[lab]')"
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set DERM_ASSIST_CHROMIUM)"
    return None


MISSING = missing_requirement()
# Every browser test module: ``pytestmark = BROWSER`` (selected with -m browser; skipped in one line where it cannot run).
BROWSER = [pytest.mark.browser, pytest.mark.skipif(MISSING is not None, reason=f"browser test: {MISSING}")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_json(path: Path, payload) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1), encoding="utf-8")


class LabServer:
    """``jupyter lab`` on 127.0.0.1 with a token, over ``root``; its kernels inherit ``env``."""

    def __init__(self, root: Path, env: dict[str, str], home: Path):
        self.root, self.home = root, home
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log_path = home / "jupyterlab.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> LabServer:
        settings = self.home / "user-settings"
        # Every cell stays in the page (no virtual scrolling), so what a test reads is what the notebook holds.
        _write_json(settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
                    {"windowingMode": "none", "recordTiming": True})
        # No news or update checks: there is no network, and no toast may cover the page.
        _write_json(settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
                    {"fetchNews": "false", "checkForUpdates": False})
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                   f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                   f"--ServerApp.root_dir={self.root}", "--LabApp.expose_app_in_browser=True",
                   f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={self.home / 'workspaces'}",
                   "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=None",
                   "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False", "--allow-root"]
        env = {**self.env, "JUPYTER_CONFIG_DIR": str(self.home / "config"), "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
               "IPYTHONDIR": str(self.home / "ipython")}
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=self.root)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({self.process.returncode}); see {self.log_path}:\n{self.log_tail()}")
            try:
                self.api("status")
                return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s; see {self.log_path}:\n{self.log_tail()}")

    def api(self, route: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.url}/api/{route}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback only)
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """End every session's kernel (between scenarios: two cores, several kernels would crowd them)."""
        from concurrent.futures import ThreadPoolExecutor

        sessions = self.api("sessions")
        with ThreadPoolExecutor(max_workers=8) as pool:  # each shutdown waits for its kernel: do them together
            list(pool.map(lambda s: self.api(f"sessions/{s['id']}", method="DELETE"), sessions))

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if getattr(self, "_log", None):
            self._log.close()


def copy_notebooks(folder: Path, work_dir: Path, parameters: dict[str, dict] | None = None) -> list[Path]:
    """Copy every learner notebook into ``folder`` with ``WORK_DIR`` (and ``parameters[name]``) injected as papermill does."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for source in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        nb = load_notebook_node(str(source))
        values = {"WORK_DIR": str(work_dir), **(parameters or {}).get(source.stem[:2], {})}
        nb = parameterize_notebook(nb, values)
        target = folder / source.name
        nbformat.write(nb, target)
        copies.append(target)
    return copies


# JavaScript run in the page. ``jupyterapp`` is exposed by --LabApp.expose_app_in_browser.
_FIND_PANEL = """
(path) => {
  const app = window.jupyterapp;
  for (const w of app.shell.widgets('main')) { if (w.context && w.context.path === path) return w; }
  return null;
}
"""
_STATE = """
(path) => {
  const app = window.jupyterapp;
  let panel = null;
  for (const w of app.shell.widgets('main')) { if (w.context && w.context.path === path) panel = w; }
  if (!panel) return {found: false};
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const prompts = [...panel.node.querySelectorAll('.jp-InputPrompt')].map(p => p.textContent);
  return {found: true, status: kernel ? kernel.status : 'none', running: prompts.some(p => p.includes('*')),
          restarting: panel.sessionContext.isRestarting || false};
}
"""
_OUTPUTS = """
(path) => {
  const app = window.jupyterapp;
  let panel = null;
  for (const w of app.shell.widgets('main')) { if (w.context && w.context.path === path) panel = w; }
  const cells = [];
  const model = panel.content.model;
  for (let i = 0; i < model.cells.length; i++) {
    const cell = model.cells.get(i);
    const outputs = cell.type === 'code' ? cell.outputs.toJSON() : [];
    const timing = cell.getMetadata ? (cell.getMetadata('execution') || {}) : {};
    cells.push({index: i, type: cell.type, source: cell.sharedModel.getSource(), outputs: outputs,
                execution_count: cell.type === 'code' ? cell.executionCount : null, timing: timing});
  }
  return cells;
}
"""


class Notebook:
    """One open notebook in the lab page."""

    def __init__(self, lab: Lab, page, path: str):
        self.lab, self.page, self.path = lab, page, path

    @property
    def name(self) -> str:
        return Path(self.path).name

    # -- finding things ---------------------------------------------------------------------------
    @property
    def panel(self):
        """The notebook's panel in the page (its tab's content)."""
        panel_id = self.page.evaluate(f"(path) => ({_FIND_PANEL})(path).id", self.path)
        return self.page.locator(f"[id='{panel_id}']")

    def activate(self) -> Notebook:
        self.page.evaluate(f"(path) => {{ const p = ({_FIND_PANEL})(path); window.jupyterapp.shell.activateById(p.id); }}", self.path)
        self.page.wait_for_timeout(150)
        return self

    def cell(self, contains: str):
        """The code cell whose source contains ``contains`` (exactly one), as a Playwright locator."""
        index = self.cell_index(contains)
        return self.panel.locator(".jp-WindowedPanel-viewport > .jp-Cell").nth(index)

    def cell_index(self, contains: str) -> int:
        matches = [c["index"] for c in self.cells() if c["type"] == "code" and contains in c["source"]]
        if len(matches) != 1:
            raise AssertionError(f"{self.name}: {len(matches)} code cells contain {contains!r}")
        return matches[0]

    def output(self, contains: str):
        """The output area of the code cell whose source contains ``contains``."""
        return self.cell(contains).locator(".jp-OutputArea").first

    def cells(self) -> list[dict]:
        return self.page.evaluate(f"(path) => ({_OUTPUTS})(path)", self.path)

    def seconds_per_cell(self) -> dict[int, float]:
        """How long each cell ran in the kernel, from the execution timing JupyterLab records."""
        from datetime import datetime

        times = {}
        for cell in self.cells():
            timing = cell.get("timing") or {}
            start, end = timing.get("shell.execute_reply.started"), timing.get("shell.execute_reply")
            if start and end:
                times[cell["index"]] = (datetime.fromisoformat(end.replace("Z", "+00:00"))
                                        - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
        return times

    def state(self) -> dict:
        return self.page.evaluate(f"(path) => ({_STATE})(path)", self.path)

    # -- doing things -----------------------------------------------------------------------------
    def wait_idle(self, timeout: float = 180) -> Notebook:
        """Wait until the kernel is idle and no cell is queued or running (seen twice, 0.3 s apart)."""
        deadline = time.monotonic() + timeout
        calm = 0
        while time.monotonic() < deadline:
            state = self.state()
            ok = state.get("found") and state["status"] == "idle" and not state["running"] and not state["restarting"]
            calm = calm + 1 if ok else 0
            if calm >= 2:
                return self
            self.page.wait_for_timeout(300)
        raise AssertionError(f"{self.name}: still busy after {timeout:.0f} s ({self.state()})")

    def menu(self, menu: str, item: str) -> None:
        """Click ``menu`` in the menu bar, then ``item`` (exact label) in it, as a learner does."""
        self.activate()
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(rf"^{re.escape(menu)}$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}$")).first.click()

    def run_all(self, timeout: float = 240) -> Notebook:
        """Run ▸ Run All Cells, then wait for the last cell and for every widget to render."""
        started = time.monotonic()
        self.menu("Run", "Run All Cells")
        self.page.wait_for_timeout(300)
        self.wait_idle(timeout)
        self.wait_widgets()
        self.lab.timings.append((self.path, time.monotonic() - started, sum(self.seconds_per_cell().values())))
        return self

    def run_all_above(self, contains: str, timeout: float = 180) -> Notebook:
        """Select the cell, then Run ▸ Run All Above Selected Cell."""
        self.activate()
        self.cell(contains).locator(".jp-InputPrompt").first.click()
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Above Selected Cell")).first.click()
        self.page.wait_for_timeout(300)
        self.wait_idle(timeout)
        return self

    def run_cell(self, contains: str, timeout: float = 120) -> Notebook:
        """Select the cell and run it (Run ▸ Run Selected Cell), then wait for it and its widgets."""
        self.activate()
        cell = self.cell(contains)
        cell.locator(".jp-InputPrompt").first.click()
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run Selected Cell")).first.click()
        self.page.wait_for_timeout(300)
        self.wait_idle(timeout)
        self.wait_widgets()
        return self

    def restart_kernel(self) -> Notebook:
        """Kernel ▸ Restart Kernel…, confirm, and wait for the new kernel."""
        self.menu("Kernel", "Restart Kernel…")
        self.page.locator(".jp-Dialog .jp-mod-accept").click()
        self.page.wait_for_timeout(500)
        return self.wait_idle(60)

    def save(self) -> Notebook:
        """File ▸ Save Notebook (outputs included), so a reload shows what the learner saw."""
        self.menu("File", "Save Notebook")
        self.page.wait_for_timeout(500)
        return self

    def wait_widgets(self, timeout: float = 20) -> None:
        """Give widget views time to render (they load after the kernel is idle)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if WIDGET_LOADING not in self.panel.inner_text():
                return
            self.page.wait_for_timeout(300)

    # -- checking things ----------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Everything a learner would see as broken: errors, tracebacks, unrendered or raw widgets."""
        found = []
        for cell in self.cells():
            for output in cell["outputs"]:
                where = f"{self.name} cell {cell['index']}"
                if output.get("output_type") == "error":
                    found.append(f"{where}: error {output.get('ename')}: {output.get('evalue')}")
                text = "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
                if "Traceback (most recent call last)" in text:
                    found.append(f"{where}: traceback in the output")
                if "application/vnd.jupyter.widget-view+json" not in output.get("data", {}) and RAW_WIDGET_REPR.search(text):
                    found.append(f"{where}: a raw widget repr {RAW_WIDGET_REPR.search(text).group(0)!r}")
        expected = sum("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for c in self.cells() for o in c["outputs"])
        if self.widget_views() < expected:
            found.append(f"{self.name}: {expected} widget outputs but {self.widget_views()} rendered")
        text = self.panel.inner_text()
        for marker in (WIDGET_ERROR, WIDGET_LOADING):
            if marker in text:
                found.append(f"{self.name}: {text.count(marker)} × {marker!r} in the page")
        return found

    def widget_views(self) -> int:
        """How many widget outputs the page renders."""
        return self.panel.locator(".jp-OutputArea-output > .jupyter-widgets").count()


class Lab:
    """A JupyterLab server and a headless Chromium for the whole test session."""

    def __init__(self, root: Path, env: dict[str, str]):
        self.root = root
        self.server = LabServer(root, env, root.parent / "lab-home")
        self.pages: list = []
        self._playwright = self.browser = None
        self._workspaces = 0
        self.timings: list[tuple[str, float, float]] = []  # (notebook, Run All wall seconds, seconds in the kernel)

    def start(self) -> Lab:
        from playwright.sync_api import sync_playwright

        self.server.start()
        self._playwright = sync_playwright().start()
        self.browser = self._playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        return self

    def stop(self) -> None:
        from playwright.sync_api import Error as PlaywrightError

        for page in self.pages:
            try:
                page.close()
            except PlaywrightError as exc:  # the browser may already be gone
                print(f"closing a page: {exc}")
        if self.browser is not None:
            self.browser.close()
        if self._playwright is not None:
            self._playwright.stop()
        self.server.stop()

    def scenario(self, name: str, parameters: dict[str, dict] | None = None) -> Path:
        """A fresh folder of notebook copies and a fresh work folder for one scenario; returns the work folder."""
        work = self.root.parent / "work" / name
        if work.exists():
            shutil.rmtree(work)
        copy_notebooks(self.root / name, work, parameters)
        return work

    def new_page(self):
        """A new browser tab showing JupyterLab, ready to use."""
        context = self.browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(30_000)
        self.pages.append(page)
        self.goto_lab(page)
        return page

    def goto_lab(self, page) -> None:
        """A workspace of its own for each tab (a reload restores it; another tab's notebooks never reopen here)."""
        self._workspaces += 1
        page.goto(f"{self.server.url}/lab/workspaces/tab{self._workspaces}?reset&token={self.server.token}")
        self.wait_ready(page)

    @staticmethod
    def wait_ready(page) -> None:
        page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-LabShell') && "
                               "document.querySelector('.lm-MenuBar-itemLabel')", timeout=60_000)
        page.evaluate("async () => { await window.jupyterapp.restored; }")

    def open(self, page, path: str) -> Notebook:
        """Open ``path`` (relative to the lab root) in ``page`` and wait for its kernel."""
        page.evaluate("async (path) => { await window.jupyterapp.commands.execute('docmanager:open', {path, factory: 'Notebook'}); }", path)
        notebook = Notebook(self, page, path)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = notebook.state()
            if state.get("found") and state["status"] == "idle":
                return notebook.activate()
            page.wait_for_timeout(300)
        raise AssertionError(f"{path}: kernel not ready after 60 s ({notebook.state()})")

    def reload(self, page) -> None:
        page.reload()
        self.wait_ready(page)

    def timing_lines(self) -> list[str]:
        """One line per Run All: wall time in the browser and time spent in the kernel."""
        lines = [f"{path:40s} {wall:6.1f} s wall  {kernel:6.1f} s in the kernel" for path, wall, kernel in self.timings]
        wall, kernel = sum(t[1] for t in self.timings), sum(t[2] for t in self.timings)
        return lines + [f"{len(self.timings)} Run All: {wall:.1f} s wall, {kernel:.1f} s in the kernel"]

    def save_failure(self, name: str) -> list[Path]:
        """Screenshot and text of every open page, under build/browser-failures/."""
        from playwright.sync_api import Error as PlaywrightError

        FAILURES_DIR.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_-]+", "_", name)[-120:]
        saved = []
        for n, page in enumerate(self.pages):
            if page.is_closed():
                continue
            png, txt = FAILURES_DIR / f"{safe}-page{n}.png", FAILURES_DIR / f"{safe}-page{n}.txt"
            try:
                page.screenshot(path=str(png), full_page=True)
                txt.write_text(page.inner_text("body"), encoding="utf-8")
                saved += [png, txt]
            except (PlaywrightError, OSError) as exc:  # a screenshot must never hide the test's own failure
                print(f"could not save {png}: {exc}")
        log = FAILURES_DIR / f"{safe}-jupyterlab.log"
        log.write_text(self.server.log_tail(200), encoding="utf-8")
        return saved


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def _literal(text: str) -> str:
    """``text`` as an XPath string literal (it may hold quotes)."""
    if "'" not in text:
        return f"'{text}'"
    return "concat(" + ", \"'\", ".join(f"'{part}'" for part in text.split("'")) + ")"


class Form:
    """A worksheet form (or any widget app) in one cell's output, found by what a learner reads: labels and buttons."""

    # A table row of a form: a box whose header holds a "Remove" button.
    ROW = (f"xpath=.//div[{_has_class('widget-vbox')}][./div[{_has_class('widget-hbox')}]"
           f"/button[normalize-space()='Remove']]")

    def __init__(self, notebook: Notebook, contains: str):
        self.notebook, self.page = notebook, notebook.page
        self.contains = contains

    @property
    def area(self):
        return self.notebook.output(self.contains)

    def rows(self):
        return self.area.locator(self.ROW)

    def field(self, label: str, row: int | None = None):
        """The input, text area or drop-down under the bold label ``label`` (in table row ``row``)."""
        scope = self.area if row is None else self.rows().nth(row)
        xpath = (f"xpath=.//div[{_has_class('widget-vbox')}][./div[{_has_class('widget-html')}]//b[normalize-space()={_literal(label)}]]"
                 "//*[self::input or self::textarea or self::select]")
        return scope.locator(xpath).first

    def row_with(self, label: str, value: str) -> int:
        """The index of the first table row whose ``label`` field holds ``value``."""
        for index in range(self.rows().count()):
            if self.field(label, index).input_value() == value:
                return index
        raise AssertionError(f"no row of the form has {label} = {value!r}; it holds {self.values()}")

    def fill(self, label: str, text: str, row: int | None = None) -> None:
        """Type ``text`` into a field and leave it, as a learner does (the value reaches the kernel on change)."""
        element = self.field(label, row)
        element.fill(text)
        element.evaluate("e => e.blur()")
        self.page.wait_for_timeout(200)

    def button(self, text: str):
        return self.area.locator("button.jupyter-button", has_text=re.compile(rf"^\s*{re.escape(text)}\s*$")).first

    def click(self, text: str, wait_for: str | None = None, timeout: float = 30) -> str:
        """Click a button; with ``wait_for``, wait until the form's text shows it. Returns the form's text."""
        before = self.text()
        self.button(text).click()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(250)
            now = self.text()
            if (wait_for is None and now != before) or (wait_for is not None and re.search(wait_for, now)):
                return now
        if wait_for is not None:
            raise AssertionError(f"after {text!r}: {wait_for!r} never showed; the form says:\n{self.text()[-1500:]}")
        return self.text()

    def save(self) -> str:
        """Press Save and return the status line once it answers."""
        self.click("Save", wait_for=r"Saved |Not saved")
        return self.status()

    def status(self) -> str:
        return self.area.locator("[role=status]").last.inner_text()

    def text(self) -> str:
        return self.area.inner_text()

    def values(self, timeout: float = 20) -> list[str]:
        """Every value the form's inputs, text areas and drop-downs hold (what the learner sees typed).

        Waits up to ``timeout`` seconds for the form's widgets to render (a large form renders after the kernel is
        idle on a busy machine); a form that never renders gives an empty list, and the caller's assertion fails."""
        script = "a => [...a.querySelectorAll('input, textarea, select')].map(e => e.value)"
        deadline = time.monotonic() + timeout
        values = self.area.evaluate(script)
        while not values and time.monotonic() < deadline:
            self.page.wait_for_timeout(250)
            values = self.area.evaluate(script)
        return values
