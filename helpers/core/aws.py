"""boto3 clients for the pack, and whether they point at the local mock.

The same code talks to AWS and to the mock: ``derm-assist mock`` prints ``AWS_ENDPOINT_URL`` and
friends, and boto3 follows them. Nothing else in the pack branches on "mock or not" except the
banner that tells a learner which one they are using.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import threading
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .config import DEFAULT_REGION

# What a boto3 call can raise: the service's refusal (ClientError: access denied, not found, throttled...) or
# botocore's own failure (no credentials or region, no connection, a timeout, a bad parameter). Catch this around
# AWS calls, not Exception, so that a bug in the pack's own code is not mistaken for an AWS answer.
ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)

# Invocations: botocore makes one quick retry of throttling and 5xx (so a call made by hand in a notebook
# survives a blip too), and helpers.classify's own loop handles the rest within its time budget; it
# counts botocore's retry in ``Classification.attempts``. (botocore's ``max_attempts`` counts retries;
# ``total_max_attempts`` counts the first request too.)
_CONTROL_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 5}, connect_timeout=5, read_timeout=60)
_RUNTIME_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=5, read_timeout=70)


def region() -> str:
    """The region boto3 will use: ``AWS_REGION``/``AWS_DEFAULT_REGION``, the profile's, else eu-west-2."""
    return (
        os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or boto3.session.Session().region_name
        or DEFAULT_REGION
    )


def endpoint_url() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL") or None


def is_mock() -> bool:
    """True when boto3 is pointed at a server on this machine (the local mock), not at AWS."""
    url = endpoint_url()
    if not url:
        return False
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@functools.cache
def _data_loader():
    """botocore's loader of service models and endpoints.json, shared by every session: parsing those JSON files
    is most of the cost of a new session (about a second), and their content never changes in a process."""
    from botocore.loaders import create_loader

    return create_loader()


@functools.cache
def _session(region_name: str, url: str | None) -> boto3.session.Session:
    import botocore.session

    core = botocore.session.get_session()
    loader = _data_loader()
    core.register_component("data_loader", loader)
    session = boto3.session.Session(botocore_session=core, region_name=region_name)
    loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))  # boto3 appends its data folder once per session
    return session


# A made client is thread-safe; making one is not (batches call from several threads): one thread makes it.
_making_clients = threading.Lock()


def client(service: str):
    """A boto3 client for ``service`` in the pack's region (cached per region and endpoint URL), from any thread."""
    reg, url = region(), endpoint_url()
    config = _RUNTIME_CONFIG if service == "sagemaker-runtime" else _CONTROL_CONFIG
    with _making_clients:
        return _cached_client(service, reg, url, config)


@functools.cache
def _cached_client(service: str, reg: str, url: str | None, config: Config):
    return _session(reg, url).client(service, region_name=reg, config=config)


def sagemaker():
    return client("sagemaker")


def runtime():
    return client("sagemaker-runtime")


def banner() -> str:
    """One line saying where requests go. Notebooks print it at the top."""
    if is_mock():
        return (
            f"LOCAL MOCK at {endpoint_url()}: no AWS account is used and nothing costs money. "
            "Predictions come from stand-ins (recorded or local models), marked as such."
        )
    return f"AWS region {region()}: real endpoints cost money while they run. Run the cleanup notebook when you finish."


def reset_clients() -> None:
    """Forget cached clients (after credentials or the endpoint URL change, e.g. in tests)."""
    _cached_client.cache_clear()
    _session.cache_clear()
