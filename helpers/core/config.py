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
MOCK_DEPLOY_SECONDS = 1.5  # how long a new endpoint stays Creating
MOCK_COLD_START_SECONDS = 1.0  # first call to a serverless endpoint
MOCK_INSTANCE_QUOTA = 2  # instances per type, like a sandbox account
MOCK_SERVERLESS_CONCURRENCY_QUOTA = 20  # total MaxConcurrency across the account's serverless endpoints

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
