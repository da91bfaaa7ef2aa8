"""Paths and defaults shared by the whole pack. What the pack knows about each model lives in helpers/models.py."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # helpers/
REPO_ROOT = PACKAGE_DIR.parent
DATA_DIR = PACKAGE_DIR / "data"

FUN_IMAGES_DIR = REPO_ROOT / "fun_images"
SKIN_PROXIES_DIR = REPO_ROOT / "skin_proxies"
TEMPLATES_DIR = REPO_ROOT / "templates"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"

PROJECT_TAG = "derm-assist-workshop"

DEFAULT_INSTANCE_TYPE = "ml.m5.large"
DEFAULT_REGION = "eu-west-2"

# Written by SageMaker Studio (and notebook instances) for the kernel: domain, user profile or space,
# and sometimes the execution role.
STUDIO_METADATA_FILE = Path("/opt/ml/metadata/resource-metadata.json")

# Hugging Face PyTorch inference DLC: recent enough that JSON base64 inputs decode (transformers >= 4.32).
HF_TRANSFORMERS_VERSION = "4.51.3"
HF_PYTORCH_VERSION = "2.6.0"
HF_PY_VERSION = "py312"

# Serverless inference: the memory sizes SageMaker offers, and what the pack deploys with unless told otherwise.
SERVERLESS_MEMORY_SIZES = (1024, 2048, 3072, 4096, 5120, 6144)
DEFAULT_SERVERLESS_MEMORY_MB = 4096
DEFAULT_SERVERLESS_CONCURRENCY = 2

# Payload limits enforced by SageMaker.
REALTIME_PAYLOAD_LIMIT = 6 * 1024 * 1024
SERVERLESS_PAYLOAD_LIMIT = 4 * 1024 * 1024

DEFAULT_TOP_K = 5  # predictions asked for per image

# The local mock (CI and offline rehearsal): where `derm-assist mock` listens and how it behaves by default.
MOCK_PORT = 5055
APP_PORT = 7860  # the Derm-Assist web app (`derm-assist app`), on 127.0.0.1
MOCK_DEPLOY_SECONDS = 1.5  # how long a new endpoint stays Creating
MOCK_COLD_START_SECONDS = 1.0  # first call to a serverless endpoint
MOCK_INSTANCE_QUOTA = 2  # instances per type, like a sandbox account
MOCK_TRANSFORM_STARTUP_SECONDS = 1.0  # a Batch Transform job's instances starting (minutes on AWS)
MOCK_SERVERLESS_CONCURRENCY_QUOTA = 20  # total MaxConcurrency across the account's serverless endpoints

# The mock's realistic timings (`derm-assist mock --realistic`, or DERM_ASSIST_MOCK_TIMINGS=realistic), for a coach
# rehearsing the class's pace: new endpoints stay Creating as long as on AWS. A real-time endpoint typically takes
# 5-10 minutes to become InService; a serverless one "a few minutes" (SageMaker developer guide, "Create a serverless
# endpoint").
MOCK_TIMINGS_ENV = "DERM_ASSIST_MOCK_TIMINGS"
MOCK_REALISTIC_DEPLOY_SECONDS = 360.0
MOCK_REALISTIC_SERVERLESS_DEPLOY_SECONDS = 180.0
# Every provisioning time of the mock runs on a clock scaled by $DERM_ASSIST_MOCK_TIME_SCALE (default 1): at 0.01 six
# minutes take 3.6 s. Progress displays read the same variable and show times on that clock (minutes, as on AWS).
MOCK_TIME_SCALE_ENV = "DERM_ASSIST_MOCK_TIME_SCALE"

# Notebook 00 starts the learner's deploy early (and notebook 03 the skin model's) unless a coach sets this to 0.
START_DEPLOY_EARLY_ENV = "DERM_ASSIST_START_DEPLOY_EARLY"

SKIN_PROXIES_SEED = 20261123  # the synthetic skin proxies are drawn from this seed

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")


def work_dir(path: str | os.PathLike | None = None) -> Path:
    """The learner's work folder (state, results, worksheets). Git ignores it.

    Order: an explicit ``path``, then ``$DERM_ASSIST_WORK_DIR``, then ``work/`` in the repo.
    """
    chosen = path or os.environ.get("DERM_ASSIST_WORK_DIR") or (REPO_ROOT / "work")
    folder = Path(chosen).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# Answers that only change with the installed packages (the SageMaker SDK's container URIs), remembered across
# kernels and work folders: $DERM_ASSIST_CACHE_DIR, else the user's cache folder.
CACHE_DIR_ENV = "DERM_ASSIST_CACHE_DIR"


def cache_dir() -> Path:
    """Where the pack remembers what it can recompute: ``$DERM_ASSIST_CACHE_DIR``, else ``~/.cache/derm-assist``
    (``$XDG_CACHE_HOME/derm-assist`` where that is set). Not created here."""
    chosen = os.environ.get(CACHE_DIR_ENV) or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "derm-assist"
    return Path(chosen).expanduser()


def mock_time_scale() -> float:
    """The mock's clock scale from $DERM_ASSIST_MOCK_TIME_SCALE: 1 (real time) unless set; 0.01 runs 6 minutes in 3.6 s."""
    raw = os.environ.get(MOCK_TIME_SCALE_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 1000:
        from .errors import BadInputError

        raise BadInputError(f"{MOCK_TIME_SCALE_ENV}={raw!r} is not a clock scale. Use a positive number, e.g. 0.01 (6 minutes in 3.6 s).")
    return value


def mock_realistic_timings() -> bool:
    """True when $DERM_ASSIST_MOCK_TIMINGS asks the mock for AWS-like provisioning times."""
    return os.environ.get(MOCK_TIMINGS_ENV, "").strip().lower() == "realistic"
