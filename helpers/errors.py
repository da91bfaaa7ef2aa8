"""One-line errors that say what to do.

Every error a learner can cause or meet is a :class:`DermAssistError`. Its message is one line
with the remedy; the CLI prints it without a traceback and exits with ``exit_code``
(1 = something failed, 2 = bad usage or bad input).
"""

from __future__ import annotations


class DermAssistError(Exception):
    """A problem we can explain in one line. ``exit_code`` follows the CLI convention."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))  # always one line

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


class QuotaExceededError(DermAssistError):
    """The account's instance quota is used up (``ResourceLimitExceeded``)."""


class ModelRejectedError(DermAssistError):
    """The container answered 4xx (``ModelError``): the payload was refused by the model server."""


class TransientEndpointError(DermAssistError):
    """Throttling, timeouts and 5xx: worth retrying."""
