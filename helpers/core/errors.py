"""One-line errors that say what to do.

Every error a learner can cause or meet is a :class:`DermAssistError`. Its message is one line
with the remedy; the CLI prints it without a traceback and exits with ``exit_code``
(1 = something failed, 2 = bad usage or bad input).
"""

from __future__ import annotations

import os
import re

# Credentials never reach a message: the values in the environment are blanked wherever they appear,
# and so is anything that looks like a secret key or session token after its name.
_SECRET_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
_SECRET_AFTER_NAME = re.compile(
    r"(?i)(aws_secret_access_key|aws_session_token|x-amz-security-token|secretaccesskey|sessiontoken|secret_key)"
    r"([\"':= ]{1,4})([A-Za-z0-9/+=]{8,})"
)


def redact(text: str) -> str:
    """``text`` with AWS secrets replaced by ``***`` (values of the environment's secret variables, and
    anything that follows a secret's name)."""
    text = str(text)
    for variable in _SECRET_VARIABLES:
        value = os.environ.get(variable, "")
        if len(value) >= 8:  # short placeholders such as the mock's "testing" are not secrets
            text = text.replace(value, "***")
    return _SECRET_AFTER_NAME.sub(lambda m: m.group(1) + m.group(2) + "***", text)


class DermAssistError(Exception):
    """A problem we can explain in one line. ``exit_code`` follows the CLI convention."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(redact(" ".join(str(message).split())))  # always one line, never a secret

    @property
    def message(self) -> str:
        return str(self)


class BadInputError(DermAssistError):
    """The learner gave us something we cannot use (missing file, not an image, bad option)."""

    exit_code = 2


class EndpointNotFoundError(DermAssistError):
    """The endpoint does not exist (or no longer exists)."""


class EndpointNotReadyError(DermAssistError):
    """The endpoint exists but is not ``InService`` yet, or it failed."""


class CredentialsError(DermAssistError):
    """No AWS credentials, or they have expired."""


class RoleNotFoundError(DermAssistError):
    """No IAM role that SageMaker could run the container as was found (an IAM user, no metadata, no ARN)."""


class QuotaExceededError(DermAssistError):
    """The account's instance quota is used up (``ResourceLimitExceeded``)."""


class ModelRejectedError(DermAssistError):
    """The container answered 4xx (``ModelError``): the payload was refused by the model server."""


class TransientEndpointError(DermAssistError):
    """Throttling, timeouts and 5xx: worth retrying."""


# --- AWS errors -> one line -------------------------------------------------------------------------

_CREDENTIAL_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "RequestExpired",
}
TRANSIENT_CODES = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalServerError",
    "InternalDependencyException",
    "ModelNotReadyException",
}


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Message", "")) or str(exc)


def http_status(exc: BaseException) -> int:
    response = getattr(exc, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: throttling, 5xx, timeouts and dropped connections."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import ReadTimeoutError

    if isinstance(exc, (ReadTimeoutError, BotoConnectionError)):
        return True
    code = error_code(exc)
    if code in TRANSIENT_CODES:
        return True
    status = http_status(exc)
    return status >= 500 and code != "ModelError"


def is_transient_model_error(exc: BaseException) -> bool:
    """A ModelError from a 5xx or a timeout inside the container is worth another try; a 4xx is not."""
    if error_code(exc) != "ModelError":
        return False
    message = error_message(exc).lower()
    return "server error" in message or "timed out" in message


def explain_aws_error(
    exc: BaseException, *, action: str, endpoint: str | None = None, serverless: bool | None = None
) -> DermAssistError:
    """Turn a botocore error into the one-line error a learner should read.

    ``serverless``: whether the call deployed a serverless endpoint, when the caller knows (it decides which
    quota a ``ResourceLimitExceeded`` is about; otherwise the message tells).
    """
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import NoCredentialsError, NoRegionError, ReadTimeoutError

    if isinstance(exc, DermAssistError):
        return exc
    if isinstance(exc, NoCredentialsError):
        return CredentialsError(
            f"{action}: no AWS credentials found. In SageMaker Studio they are automatic; elsewhere run "
            "`aws configure` or start the local mock (`derm-assist mock`) and export what it prints."
        )
    if isinstance(exc, NoRegionError):
        return BadInputError(f"{action}: no AWS region set. Export AWS_DEFAULT_REGION=eu-west-2 (or your region).")
    if isinstance(exc, ReadTimeoutError):
        return TransientEndpointError(
            f"{action}: the endpoint did not answer in time. A serverless endpoint may be cold-starting: try again."
        )
    if isinstance(exc, BotoConnectionError):
        return TransientEndpointError(
            f"{action}: cannot reach {getattr(exc, 'kwargs', {}).get('endpoint_url', 'AWS')}. "
            "Check the network, or that the local mock is running."
        )
    code, message = error_code(exc), error_message(exc)
    if code in _CREDENTIAL_CODES:
        return CredentialsError(
            f"{action}: your AWS credentials were refused or have expired ({code}). "
            "Restart the Studio session or refresh your sandbox credentials, then re-run the cell."
        )
    if code == "ResourceLimitExceeded":
        about_serverless = serverless if serverless is not None else "serverless" in message.lower()
        if about_serverless:
            return QuotaExceededError(
                f"{action}: the account's serverless quota is used up ({message}). Every serverless endpoint's max "
                "concurrency counts against one regional total, which sandboxes keep small: delete a serverless endpoint "
                "you no longer need (`derm-assist endpoints`, then `derm-assist cleanup NAME`), deploy with a max "
                "concurrency of 1, or ask for more in Service Quotas."
            )
        return QuotaExceededError(
            f"{action}: the account's instance quota for endpoints is used up ({message}); sandbox accounts often allow "
            "0 or 1 instance of a type. Delete an endpoint you no longer need (`derm-assist endpoints`, then "
            "`derm-assist cleanup NAME`), deploy serverless, which uses no instances (SERVERLESS = True in notebook 01, "
            "--serverless on the command line), pick a smaller instance type, or ask for more in Service Quotas."
        )
    if code in ("AccessDeniedException", "AccessDenied"):
        return CredentialsError(f"{action}: access denied ({message}). Ask your coach to attach the pack's IAM policy (iam/derm-assist-policy.json).")
    if code == "ModelError" and is_transient_model_error(exc):
        what = "did not answer within SageMaker's 60-second limit" if "timed out" in message.lower() else "failed inside the container"
        return TransientEndpointError(
            f"{action}: the model server {what} ({_first_sentence(message, 160)}). This is usually temporary: "
            "wait a minute and try again; if it keeps happening, read the endpoint's CloudWatch logs or redeploy it."
        )
    if code == "ValidationError" and "not in service" in message.lower():
        return EndpointNotReadyError(
            f"{action}: {message} Wait until it is InService (`derm-assist endpoints` shows it), then try again."
        )
    if code == "ModelError":
        return ModelRejectedError(
            f"{action}: the model server refused the request: {_first_sentence(message)}. "
            "Send a JPEG, PNG or WebP (helpers.classify does this for you)."
        )
    if http_status(exc) == 413 or code == "413":
        return BadInputError(f"{action}: the payload is too large for the endpoint ({message}). Downscale the image first.")
    if code in TRANSIENT_CODES or http_status(exc) >= 500:
        return TransientEndpointError(f"{action}: the service is busy or failing ({code}: {_first_sentence(message)}). Wait a moment and try again.")
    if code == "ValidationError" and "not found" in message.lower():
        return EndpointNotFoundError(f"{action}: {message}")
    return DermAssistError(f"{action}: {code or type(exc).__name__}: {_first_sentence(message)}")


def _first_sentence(text: str, limit: int = 240) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
