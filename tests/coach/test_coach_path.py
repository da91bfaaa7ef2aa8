"""The coach's offline rehearsal, exactly as the README tells it: `make mock` prints the exports, the coach pastes
them and starts `.venv/bin/jupyter lab`, then runs the notebooks. Here the same commands run on loopback ports,
the notebooks' cells go through the Jupyter server's own kernel API (what the browser uses), and both are shut down.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from helpers.core.config import NOTEBOOKS_DIR, REPO_ROOT

BIN = Path(sys.executable).parent
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")

pytestmark = [
    pytest.mark.notebooks,
    pytest.mark.skipif(not (BIN / "jupyter-lab").exists(), reason="JupyterLab is not installed here (the 'lab' extra; make installs it)"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def readme_rehearsal() -> list[str]:
    section = README.split("**Rehearse offline**", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def test_the_readme_commands_are_what_make_provides():
    assert readme_rehearsal() == ["make mock", ".venv/bin/jupyter lab"]
    extras = re.search(r"^EXTRAS \?= (.*)$", MAKEFILE, re.MULTILINE).group(1).split(",")
    assert "lab" in extras and "mock" in extras, "make setup must install JupyterLab and the mock for the coach path"
    recipe = re.search(r"^mock: setup\n\t(.*)$", MAKEFILE, re.MULTILINE).group(1)
    assert recipe.startswith("$(BIN)/derm-assist mock --port ")


def start_mock(port: int) -> tuple[subprocess.Popen, dict[str, str]]:
    """`make mock`'s command on another port; returns the process and the variables it printed as `export` lines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DERM_ASSIST_"))}
    process = subprocess.Popen([str(BIN / "derm-assist"), "mock", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env)
    exports: dict[str, str] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("export "):
            key, _, value = line[len("export "):].strip().partition("=")
            exports[key] = shlex.split(value)[0] if value else ""
            if key == "DERM_ASSIST_OWNER":
                return process, exports
    process.kill()
    raise AssertionError(f"the mock printed no exports ending with DERM_ASSIST_OWNER: {exports}")


def start_lab(port: int, token: str, env: dict[str, str], root: Path, log: Path) -> subprocess.Popen:
    """The README's `.venv/bin/jupyter lab`, on loopback, no browser, with a token."""
    process = subprocess.Popen([str(BIN / "jupyter"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                                "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
                                # CI containers run as root, which JupyterLab refuses without this; a coach's laptop does not.
                                *(["--allow-root"] if os.geteuid() == 0 else [])],
                               env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=root)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            api(port, token, "/api/status")
            return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.5)
    process.kill()
    raise AssertionError("JupyterLab did not start:\n" + log.read_text()[-3000:])


def api(port: int, token: str, route: str, method: str = "GET", body: dict | None = None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{route}", method=method, headers={"Authorization": f"token {token}"},
                                     data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
    return json.loads(text) if text else None


async def run_cells(port: int, token: str, kernel_id: str, cells: list[str], timeout: float) -> list[tuple[str, str]]:
    """Each cell as an execute_request on the kernel's websocket; returns (output text, error) per cell."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    url = f"ws://127.0.0.1:{port}/api/kernels/{kernel_id}/channels"
    conn = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
    session, results = uuid.uuid4().hex, []
    try:
        for code in cells:
            msg_id = uuid.uuid4().hex
            await conn.write_message(json.dumps({
                "header": {"msg_id": msg_id, "username": "coach", "session": session, "msg_type": "execute_request", "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False,
                            "stop_on_error": True}}))
            text, error = [], ""
            while True:
                raw = await asyncio.wait_for(conn.read_message(), timeout)
                assert raw is not None, "the kernel's websocket closed"
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    text.append(content["text"])
                elif kind in ("display_data", "execute_result"):
                    text.append(content["data"].get("text/plain", ""))
                elif kind == "error":
                    error = f"{content['ename']}: {content['evalue']}"
                elif kind == "status" and content["execution_state"] == "idle":
                    break
            results.append(("".join(text), error))
            if error:
                break
    finally:
        conn.close()
    return results


def notebook_cells(name: str) -> list[str]:
    """The notebook's code cells, with the non-interactive parameters after the `parameters` cell (as papermill does)."""
    import nbformat  # here, not at the top: importing it costs every pytest worker a second (jsonschema's grammars)

    cells = []
    for cell in nbformat.read(NOTEBOOKS_DIR / name, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        cells.append(cell.source)
        if "parameters" in cell.metadata.get("tags", []):
            cells.append("INTERACTIVE = False")
    return cells


def test_the_offline_rehearsal_runs_as_the_readme_says(tmp_path):
    mock, exports = start_mock(free_port())
    lab = None
    try:
        assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:") and exports["DERM_ASSIST_OWNER"] == "rehearsal"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DERM_ASSIST_", "JUPYTER_"))}
        env.update(exports)  # the coach pasted the printed lines
        env.update({"DERM_ASSIST_WORK_DIR": str(tmp_path / "work"),  # keep the repository's work/ out of the test
                    "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "MPLBACKEND": "Agg"})
        port, token = free_port(), secrets.token_hex(16)
        lab = start_lab(port, token, env, REPO_ROOT / "notebooks", tmp_path / "jupyterlab.log")
        assert "JupyterLab" in urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=30).read().decode()
        kernel = api(port, token, "/api/kernels", "POST", {"name": "python3"})
        outputs = []
        for name in ("00_preflight.ipynb", "01_deploy_mobilenet.ipynb"):
            results = asyncio.run(run_cells(port, token, kernel["id"], notebook_cells(name), timeout=180))
            failed = [(text[-500:], error) for text, error in results if error]
            assert not failed, f"{name}: {failed}"
            outputs.append("\n".join(text for text, _ in results))
        preflight, deploy = outputs
        assert "LOCAL MOCK" in preflight and "✗" not in preflight
        assert "Owner: rehearsal" in preflight
        assert "derm-assist-rehearsal-mobilenet-v2" in deploy and "InService" in deploy
        api(port, token, f"/api/kernels/{kernel['id']}", "DELETE")
        api(port, token, "/api/shutdown", "POST")
        assert lab.wait(timeout=30) == 0
    finally:
        for process in (lab, mock):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
