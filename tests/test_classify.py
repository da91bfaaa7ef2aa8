"""classify(): typed predictions, retries for what is transient, one line for the rest."""

import random
import statistics

import pytest
from botocore.exceptions import ClientError

from helpers import classify
from helpers.core import aws
from helpers.core.config import FUN_IMAGES_DIR
from helpers.core.errors import BadInputError, ModelRejectedError, TransientEndpointError
from helpers.mock import control


def client_error(code, status=400, message="boom"):
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "InvokeEndpoint")


def test_classify_returns_sorted_typed_predictions(deployed):
    result = classify.classify(FUN_IMAGES_DIR / "dog.jpg", top_k=3)
    assert len(result.predictions) == 3
    assert all(isinstance(p, classify.Prediction) for p in result.predictions)
    assert result.top.label.startswith("German shepherd")
    assert result.is_mock and result.stand_in == "recording"
    assert result.endpoint == deployed.name and result.latency_ms > 0


def test_top_k_must_be_positive(deployed):
    with pytest.raises(BadInputError):
        classify.classify(FUN_IMAGES_DIR / "dog.jpg", top_k=0)


def test_retries_transient_errors_then_succeeds():
    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise client_error("ThrottlingException")
        return {"ok": True}

    result, attempts = classify.invoke_with_retries(flaky, action="test", sleep=sleeps.append, rng=random.Random(1))
    assert result == {"ok": True} and attempts == 3 and len(sleeps) == 2
    assert all(0 <= s <= 4.0 for s in sleeps)


def test_does_not_retry_client_errors():
    calls = []

    def bad():
        calls.append(1)
        raise client_error("ModelError", 424, "Received client error (400) from primary with message \"cannot identify image file\"")

    with pytest.raises(ModelRejectedError):
        classify.invoke_with_retries(bad, action="test", sleep=lambda s: None)
    assert len(calls) == 1


def test_gives_up_within_the_time_budget():
    def always():
        raise client_error("ThrottlingException")

    with pytest.raises(TransientEndpointError) as info:
        classify.invoke_with_retries(always, action="test", budget_seconds=0.05, base_delay=0.01, sleep=lambda s: None)
    assert "gave up after" in str(info.value)


def test_server_side_model_errors_are_retried():
    calls = []

    def once_bad():
        calls.append(1)
        if len(calls) == 1:
            raise client_error("ModelError", 424, 'Received server error (500) from primary with message "oops"')
        return "fine"

    assert classify.invoke_with_retries(once_bad, action="t", sleep=lambda s: None)[0] == "fine"


def test_batch_keeps_going_past_a_bad_image(deployed, tmp_path):
    (tmp_path / "broken.jpg").write_text("not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    import shutil

    shutil.copy(FUN_IMAGES_DIR / "dog.jpg", tmp_path / "dog.jpg")
    batch = classify.classify_many([tmp_path], progress=False)
    assert [r.image.endswith("dog.jpg") for r in batch.results] == [True]
    assert sorted(n.split("/")[-1] for n, _ in batch.failures) == ["broken.jpg", "empty.png"]
    assert "2 failed" in batch.report_failures()


def test_batch_survives_throttling_storm(deployed):
    control(aws.endpoint_url(), "faults", {"throttle_rate": 0.5})
    batch = classify.classify_many([FUN_IMAGES_DIR], progress=False)
    from helpers.images import list_images

    assert len(batch.results) == len(list_images(FUN_IMAGES_DIR)) and not batch.failures
    assert any(r.attempts > 1 for r in batch.results)


# --- cold starts, judged from what a client can observe -------------------------------------------------


@pytest.mark.parametrize("latencies,likely", [
    ([9500, 120, 110, 130], True),    # a serverless scale-up: seconds on the first call
    ([450, 120, 110, 130], False),    # a new connection's few hundred ms is not a cold start
    ([2600, 1400, 1500, 1450], False),  # slow throughout: nothing special about the first call
    ([130, 120, 110], False),
])
def test_a_cold_start_is_a_first_call_much_slower_than_the_rest(latencies, likely):
    verdict = classify.judge_cold_start(latencies, idle_seconds=600)
    assert verdict.likely is likely
    assert verdict.warm_median_ms == statistics.median(latencies[1:])
    sentence = verdict.sentence("derm-assist-x")
    assert "after 10 min idle" in sentence and ("cold start looks like" in sentence) is likely


def test_one_call_cannot_be_judged():
    with pytest.raises(BadInputError):
        classify.judge_cold_start([900])


def _timed_calls(name, n=4):
    return [classify.classify(FUN_IMAGES_DIR / "dog.jpg", name, top_k=1) for _ in range(n)]


def test_a_serverless_cold_start_is_seen_from_the_client_alone(mock_aws):
    from helpers import endpoint

    mock_aws.state.settings.cold_start_seconds = 1.2
    info = endpoint.deploy(name="derm-assist-sls", serverless=endpoint.ServerlessSpec(2048, 1), progress=False)
    idle = classify.idle_seconds(info.name)
    assert idle is not None and 0 <= idle < 30  # since it became InService moments ago
    first = _timed_calls(info.name)
    verdict = classify.judge_cold_start([r.latency_ms for r in first], idle)
    # The mock marks the cold starts it simulates; only this test reads the mark, to check the judgement.
    assert verdict.likely and "cold-start=true" in first[0].custom_attributes
    assert classify.idle_seconds(info.name) < 5  # this kernel just called it
    again = _timed_calls(info.name)
    assert not classify.judge_cold_start([r.latency_ms for r in again]).likely
    assert not any("cold-start" in r.custom_attributes for r in again)


def test_a_real_time_endpoint_shows_no_cold_start(deployed):
    results = _timed_calls(deployed.name)
    assert not classify.judge_cold_start([r.latency_ms for r in results]).likely


def test_idle_time_of_an_unknown_endpoint_is_unknown(mock_aws):
    assert classify.idle_seconds("derm-assist-nobody") is None


def test_nothing_outside_the_mock_reads_its_cold_start_mark():
    from helpers.core.config import PACKAGE_DIR

    readers = [p.relative_to(PACKAGE_DIR).as_posix() for p in PACKAGE_DIR.rglob("*.py")
               if "mock" not in p.parts and "cold-start=" in p.read_text()]
    assert readers == []


# --- saying where the answers come from ------------------------------------------------------------------


def test_a_batch_from_the_mock_says_which_stand_in_answered(deployed, capsys):
    batch = classify.classify_many([FUN_IMAGES_DIR], deployed.name, progress=False)
    notice = batch.stand_in_notice()
    assert notice.startswith("[MOCK]") and "not MobileNetV2" in notice and "recorded efficientnet-lite0" in notice
    assert f"({len(batch.results)} images)" in notice and "On AWS, MobileNetV2 itself answers" in notice
    batch.say_where_answers_come_from()
    assert capsys.readouterr().out.strip() == notice


def test_answers_from_the_real_model_need_no_notice(capsys):
    real = classify.Classification("dog.jpg", [classify.Prediction("German shepherd", 0.9)], "derm-assist-x", 80.0)
    batch = classify.BatchResult(results=[real])
    assert batch.stand_in_notice() is None
    batch.say_where_answers_come_from()
    assert capsys.readouterr().out == ""


def test_a_bug_is_not_retried_nor_dressed_as_an_aws_error():
    calls = []

    def buggy():
        calls.append(1)
        raise TypeError("unsupported operand")

    with pytest.raises(TypeError):
        classify.invoke_with_retries(buggy, action="t", sleep=lambda s: None)
    assert len(calls) == 1


# --- a few calls in flight ---------------------------------------------------------------------------------


@pytest.fixture
def mixed_folder(tmp_path):
    """Shipped images with two broken files among them, named so that they sort in between."""
    import shutil

    from helpers.core.config import SKIN_PROXIES_DIR
    from helpers.images import list_images

    folder = tmp_path / "mixed"
    folder.mkdir()
    for index, path in enumerate(list_images(FUN_IMAGES_DIR) + list_images(SKIN_PROXIES_DIR)[:5]):
        shutil.copy(path, folder / f"{index:02d}-{path.name}")
    (folder / "03b-broken.jpg").write_text("not an image")
    (folder / "07b-empty.png").write_bytes(b"")
    return folder


def test_concurrent_batch_keeps_input_order_and_gives_the_same_answers(deployed, mixed_folder, monkeypatch):
    in_flight, most = [0], [0]
    lock = __import__("threading").Lock()
    real = classify.classify_payload

    def counting(*args, **kwargs):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    control(aws.endpoint_url(), "faults", {"latency_ms": 60})
    monkeypatch.setattr(classify, "classify_payload", counting)
    together = classify.classify_many([mixed_folder], progress=False, concurrency=4)
    assert 1 < most[0] <= 4  # calls really overlapped, and never more than asked
    most[0] = 0
    alone = classify.classify_many([mixed_folder], progress=False, concurrency=1)
    assert most[0] == 1
    from helpers.images import list_images

    expected = [str(p) for p in list_images(mixed_folder) if "broken" not in p.name and "empty" not in p.name]
    assert [r.image for r in together.results] == expected == [r.image for r in alone.results]
    assert [(r.top.label, r.top.score, r.sha256) for r in together.results] == [(r.top.label, r.top.score, r.sha256) for r in alone.results]
    assert [n.split("/")[-1] for n, _ in together.failures] == ["03b-broken.jpg", "07b-empty.png"]
    assert together.exit_codes == [2, 2] and "2 failed" in together.report_failures()


def test_concurrent_batch_retries_throttling_per_call(deployed, mixed_folder):
    control(aws.endpoint_url(), "faults", {"throttle_rate": 0.5, "latency_ms": 20})
    batch = classify.classify_many([mixed_folder], progress=False, concurrency=4)
    assert len(batch.results) == 12 and len(batch.failures) == 2
    assert any(r.attempts > 1 for r in batch.results)  # throttled calls were retried, not reported as failures


def test_an_endpoint_that_goes_away_stops_the_concurrent_batch(deployed, mixed_folder):
    from helpers import endpoint
    from helpers.core.errors import EndpointNotFoundError

    endpoint.delete_endpoint(deployed.name)
    with pytest.raises(EndpointNotFoundError):
        classify.classify_many([mixed_folder], deployed.name, progress=False, concurrency=4)


@pytest.mark.parametrize("bad", [0, 17, 2.5, True])
def test_concurrency_must_be_a_small_whole_number(bad, tmp_path):
    with pytest.raises(BadInputError, match="concurrency"):
        classify.classify_many([tmp_path], "ep", progress=False, concurrency=bad)
