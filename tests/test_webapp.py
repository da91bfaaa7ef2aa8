"""The web app's handlers against the mock: outcome, disclaimer, one-line failures, review rows, concurrency."""

from __future__ import annotations

import concurrent.futures
import csv
import io
import json
import shutil
import subprocess
import sys

import pytest

from helpers import assessment, classify, endpoint, state, triage, webapp
from helpers.core import aws
from helpers.core.config import SKIN_PROXIES_DIR
from helpers.mock import control
from helpers.models import SKIN_VIT_ID

CLI = [sys.executable, "-m", "helpers.coach.cli"]
EXAMPLES = sorted(SKIN_PROXIES_DIR.glob("*.png"))


@pytest.fixture
def skin(mock_aws):
    info = endpoint.deploy(SKIN_VIT_ID, progress=False)
    state.remember_endpoint(info.name, SKIN_VIT_ID)
    return info


@pytest.fixture
def handlers(skin):
    return webapp.endpoint_handlers()


def rows() -> list[dict]:
    path = triage.ReviewLog().path
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))) if path.exists() else []


def assert_one_line_warning(answer: webapp.Answer, *fragments: str) -> None:
    assert answer.status.startswith("⚠ ") and "\n" not in answer.status and "Traceback" not in answer.status
    assert answer.result == "" and answer.scores is None
    for fragment in fragments:
        assert fragment in answer.status


def test_a_picked_example_shows_outcome_confidence_chart_disclaimer_and_is_logged(handlers):
    answer = handlers.run(None, EXAMPLES[0].name, 0.0, "first look")
    assert EXAMPLES[0].name in handlers.example_names()
    heading = answer.result.splitlines()[0]
    assert heading in (f"## {triage.BENIGN}", f"## {triage.CONCERNING}")  # threshold 0: never Uncertain
    assert triage.DISCLAIMER in answer.result and "confidence" in answer.result
    assert "Simulated model (local mock): not the real skin-cancer ViT." in answer.result
    assert 1 <= len(answer.scores) <= webapp.TOP_CLASSES and set(answer.scores) <= set(triage.LABELS)
    assert max(answer.scores.values()) == pytest.approx(float(answer.result.split("**")[3].rstrip("%")) / 100, abs=0.006)
    assert answer.status.startswith("Recorded for review") and str(triage.ReviewLog().path) in answer.status
    [row] = rows()
    assert row["reviewer_note"] == "first look" and row["model_id"] == SKIN_VIT_ID and len(row["image_sha256"]) == 64
    assert row["triage_outcome"] == heading[3:]


def test_threshold_one_makes_every_answer_uncertain(handlers):
    answer = handlers.run(None, EXAMPLES[1].name, 1.0, "")
    assert answer.result.startswith(f"## {triage.UNCERTAIN}")
    assert rows()[-1]["triage_outcome"] == triage.UNCERTAIN and rows()[-1]["threshold"] == "1.00"


def test_an_upload_is_logged_by_hash_never_by_name_or_content(handlers, tmp_path):
    upload = tmp_path / "jane-doe-left-arm.png"
    shutil.copy(EXAMPLES[2], upload)
    answer = handlers.run(str(upload), EXAMPLES[0].name, 0.5, "")  # an upload wins over a picked example
    assert not answer.status.startswith("⚠")
    text = triage.ReviewLog().path.read_text(encoding="utf-8")
    assert "jane" not in text and EXAMPLES[0].name not in text
    sent = classify.images.prepare_payload(upload, triage.MODEL.geometry)  # what the skin endpoint was sent
    assert rows()[-1]["image_sha256"] == classify.images.sha256_bytes(sent.body)


@pytest.mark.parametrize("content, name", [(b"not an image at all", "photo.jpg"), (b"", "empty.png"), (b"col\n1\n", "notes.csv")])
def test_a_bad_file_is_one_line_and_logs_nothing(handlers, tmp_path, content, name):
    bad = tmp_path / name
    bad.write_bytes(content)
    answer = handlers.run(str(bad), None, 0.5, "keep me")
    assert_one_line_warning(answer, name)
    assert rows() == []


def test_nothing_chosen_says_what_to_do(handlers):
    assert_one_line_warning(handlers.run(None, None, 0.5, ""), webapp.NO_IMAGE)
    assert_one_line_warning(handlers.run(None, "no-such-example.png", 0.5, ""), "not one of the shipped examples")
    assert_one_line_warning(handlers.run(None, EXAMPLES[0].name, 1.5, ""), "threshold")


def test_no_endpoint_and_a_missing_endpoint_are_one_line(mock_aws):
    no_endpoint = webapp.endpoint_handlers()
    assert_one_line_warning(no_endpoint.run(None, EXAMPLES[0].name, 0.5, ""), "No endpoint remembered yet")
    gone = webapp.endpoint_handlers("derm-assist-nobody-vit")
    assert_one_line_warning(gone.run(None, EXAMPLES[0].name, 0.5, ""), "derm-assist-nobody-vit")
    assert rows() == []


def test_expired_credentials_are_one_line(handlers):
    control(aws.endpoint_url(), "faults", {"global": {"expired_credentials": True}})
    try:
        answer = handlers.run(None, EXAMPLES[0].name, 0.5, "")
    finally:
        control(aws.endpoint_url(), "faults", method="DELETE")
    assert_one_line_warning(answer, "expired")


def test_an_unexpected_failure_is_one_line_and_its_traceback_goes_to_the_terminal(caplog):
    def broken(image, name, threshold, note):
        raise KeyError("boom\nsecond line")

    answer = webapp.Handlers(broken, EXAMPLES[:1]).run(None, EXAMPLES[0].name, 0.5, "")
    assert_one_line_warning(answer, "KeyError", "terminal")
    assert "Traceback" in caplog.text or any(r.exc_info for r in caplog.records)


def test_the_endpoint_is_read_at_each_click(handlers, skin, mock_aws):
    """Swapping endpoints while the app runs: the next click uses the newly remembered one."""
    handlers.run(None, EXAMPLES[0].name, 0.5, "")
    state.remember_endpoint("derm-assist-swapped", SKIN_VIT_ID)
    assert_one_line_warning(handlers.run(None, EXAMPLES[0].name, 0.5, ""), "derm-assist-swapped")


def test_concurrent_users_never_interleave_or_lose_rows(handlers):
    users, clicks = 6, 4
    notes = [f"user {u} click {c}, with a comma" for u in range(users) for c in range(clicks)]
    with concurrent.futures.ThreadPoolExecutor(users) as pool:
        answers = list(pool.map(lambda i: handlers.run(None, EXAMPLES[i % len(EXAMPLES)].name, 0.5, notes[i]), range(len(notes))))
    assert all(a.status.startswith("Recorded") for a in answers), [a.status for a in answers if not a.status.startswith("Recorded")]
    logged = rows()
    assert sorted(r["reviewer_note"] for r in logged) == sorted(notes)
    assert all(list(r) == list(triage.LOG_COLUMNS) and len(r["image_sha256"]) == 64 for r in logged)
    assert triage.ReviewLog().path.read_text(encoding="utf-8").count("timestamp,image_sha256") == 1


def test_assess_takes_another_classifier_and_keeps_the_rule_and_the_log(tmp_path):
    """The Space's path: the classification comes from a model in-process, triage and logging are assess's own."""
    seen = []

    def in_process(image):
        seen.append(image)
        return classify.Classification("x", [classify.Prediction("melanoma", 0.8), classify.Prediction("melanocytic_Nevi", 0.2)],
                                       "in-process", 1.0, sha256="f" * 64)

    result = assessment.assess(b"bytes", threshold=0.5, model_id="tiny", classifier=in_process, work_dir=tmp_path, note="n")
    assert seen == [b"bytes"] and result.outcome == triage.CONCERNING and result.stand_in_note == ""
    assert result.log_row["image_sha256"] == "f" * 64 and triage.ReviewLog(tmp_path).read().iloc[0].model_id == "tiny"


# --- where the app is reached -------------------------------------------------------------------------

STUDIO = {"AppType": "JupyterLab", "DomainId": "d-abc123xyz", "SpaceName": "ada-space", "UserProfileName": "ada",
          "ResourceArn": "arn:aws:sagemaker:eu-west-2:111122223333:app/d-abc123xyz/ada-space/JupyterLab/default"}


def test_studio_link_goes_through_jupyterlab_proxy():
    link = webapp.app_link(7861, metadata=STUDIO)
    assert link.url == "https://d-abc123xyz.studio.eu-west-2.sagemaker.aws/jupyterlab/default/proxy/7861/"
    assert link.root_path == "/jupyterlab/default/proxy/7861" and link.where == "SageMaker Studio"


def test_studio_classic_and_an_explicit_root_path():
    classic = webapp.app_link(7860, metadata=dict(STUDIO, AppType="JupyterServer"))
    assert classic.url == "https://d-abc123xyz.studio.eu-west-2.sagemaker.aws/jupyter/default/proxy/7860/"
    custom = webapp.app_link(7860, root_path="/my/proxy/", metadata=STUDIO)
    assert custom.root_path == "/my/proxy" and custom.url.endswith(".sagemaker.aws/my/proxy/")


def test_studio_metadata_file_is_read_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "resource-metadata.json"
    path.write_text(json.dumps(STUDIO))
    monkeypatch.setenv(webapp.STUDIO_METADATA_VARIABLE, str(path))
    assert webapp.app_link(7860).url.startswith("https://d-abc123xyz.studio.eu-west-2.")
    path.write_text("{not json")
    assert webapp.app_link(7860).url == "http://127.0.0.1:7860/"


def test_local_link_and_bad_ports(monkeypatch, tmp_path):
    monkeypatch.setenv(webapp.STUDIO_METADATA_VARIABLE, str(tmp_path / "absent.json"))
    assert webapp.app_link(8000) == webapp.AppLink("http://127.0.0.1:8000/", "", "local")
    assert webapp.app_link(8000, root_path="/proxy/8000").url == "http://127.0.0.1:8000/proxy/8000/"
    for bad in (80, 70000, "x"):
        with pytest.raises(webapp.BadInputError, match="port"):
            webapp.app_link(bad)


def test_cli_app_bad_options_are_one_line(tmp_path):
    for args, fragment in ((["--port", "80"], "port"), (["--threshold", "2"], "threshold")):
        run = subprocess.run(CLI + ["app", *args, "--work-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
        assert run.returncode == 2 and fragment in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "--root-path" in subprocess.run(CLI + ["app", "--help"], capture_output=True, text=True, timeout=60).stdout


def test_without_gradio_the_app_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gradio", None)  # import gradio -> ImportError
    with pytest.raises(webapp.DermAssistError, match=r"\.\[app\]"):
        webapp.build_blocks(webapp.Handlers(lambda *a: None), banner="")
