"""Evaluation time for a few hundred labelled images: real-time endpoint vs Batch Transform, on the local mock.

The shipped synthetic set (48 images) is repeated under new names to reach ``--images``; both paths send the
same cleaned images to the same simulated skin model and must agree on every answer. Figures are printed,
not asserted. Run with `make benchmark` or `python benchmarks/evaluation_scale.py --images 288`.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from helpers import batch, endpoint, evaluation, models  # noqa: E402
from helpers.mock import MockServer  # noqa: E402


def bigger_set(folder: Path, images: int) -> evaluation.LabelledSet:
    """The shipped set copied round after round (new file names, same labels) until it has ``images`` rows."""
    shipped = evaluation.load_labelled_set(evaluation.EVAL_SET_DIR)
    rows = []
    for i in range(images):
        item = shipped.items.iloc[i % len(shipped)]
        name = f"r{i // len(shipped):02d}-{item['file']}"
        shutil.copyfile(item["path"], folder / name)
        rows.append({"file": name, "label": item["label"], "fitzpatrick": item["fitzpatrick"]})
    with open(folder / evaluation.LABELS_FILE, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "label", "fitzpatrick"])
        writer.writeheader()
        writer.writerows(rows)
    return evaluation.load_labelled_set(folder)


def run(images: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, MockServer() as mock:
        os.environ.update(mock.environment())
        os.environ["DERM_ASSIST_WORK_DIR"] = str(Path(tmp) / "work")
        os.environ.setdefault("DERM_ASSIST_OWNER", "benchmark")  # the mock's identity (moto) is nobody's
        os.environ["DERM_ASSIST_NONINTERACTIVE"] = "1"
        labelled = bigger_set(Path(tmp), images)
        info = endpoint.deploy(models.SKIN.id, progress=False)
        started = time.perf_counter()
        realtime = evaluation.evaluate_endpoints(labelled, [info.name], progress=False).reports[0]
        realtime_s = time.perf_counter() - started
        started = time.perf_counter()
        report, job = batch.evaluate(labelled, info.name, progress=False)
        batch_s = time.perf_counter() - started
        same = list(report.table["predicted"]) == list(realtime.table["predicted"])
        startup = mock.state.settings.transform_startup_seconds
        print(f"Evaluation of {len(labelled)} images on the mock (simulated skin stand-in):")
        print(f"  real-time, one request at a time: {realtime_s:6.1f} s ({1000 * realtime_s / len(labelled):.0f} ms per image)")
        print(f"  Batch Transform (upload, job, read back): {batch_s:6.1f} s, of which the job ran {job.seconds:.1f} s "
              f"(incl. the mock's {startup:.1f} s start-up; minutes on AWS)")
        print(f"  same answers on both paths: {same}")
        print("  " + batch.compare_cost(len(labelled), realtime_s, job.seconds or 0.0).sentence())
        batch.delete_objects()
        endpoint.delete_endpoint(info.name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=288, help="labelled images to evaluate (default 288)")
    run(parser.parse_args().images)
