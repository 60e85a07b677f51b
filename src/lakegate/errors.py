"""Typed errors shared by every layer.

Every error the user can cause or meet carries an exit code (CLI) and an HTTP status
(API), and says whether retrying can help. The CLI and the API each have one handler
that turns a :class:`LakegateError` into one line or a problem+json response; nothing
deeper formats errors for a door.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, in one place (documented in docs/exit-codes.md)."""

    OK = 0
    FAILED = 1
    """A job or an error-severity quality check failed."""
    BAD_INPUT = 2
    """Bad configuration, rules, dataset path or arguments: nothing ran."""
    INTERRUPTED = 130


class LakegateError(Exception):
    """Base of every error Lakegate raises on purpose.

    ``str(error)`` must be one line, name what and where (file, row, column, field),
    and never contain a secret.
    """

    exit_code: int = ExitCode.FAILED
    http_status: int = 500
    transient: bool = False
    """True when retrying the same operation later may succeed (network, throttling)."""
    title: str = "Lakegate error"

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()) if "\n" in message else message)

    @property
    def message(self) -> str:
        """The one-line message."""
        return str(self)


class ConfigError(LakegateError):
    """Invalid user input: a workbook row, a rule file, a setting, an argument."""

    exit_code = ExitCode.BAD_INPUT
    http_status = 422
    title = "Invalid configuration"


class MultipleConfigError(ConfigError):
    """Several configuration problems found at once (every one is reported)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))

    def __str__(self) -> str:
        return "\n".join(self.problems)


class NotFoundError(LakegateError):
    """A named resource (dataset, job, tenant, secret) does not exist."""

    exit_code = ExitCode.BAD_INPUT
    http_status = 404
    title = "Not found"


class SecretNotFoundError(NotFoundError):
    """A secret a job needs is missing from every configured provider."""

    title = "Secret not found"


class ConflictError(LakegateError):
    """The request conflicts with the current state (duplicate name, wrong state)."""

    exit_code = ExitCode.BAD_INPUT
    http_status = 409
    title = "Conflict"


class AuthenticationError(LakegateError):
    """Missing or invalid credentials."""

    exit_code = ExitCode.BAD_INPUT
    http_status = 401
    title = "Unauthorized"


class PermissionDeniedError(LakegateError):
    """Authenticated, but not allowed to do this."""

    exit_code = ExitCode.BAD_INPUT
    http_status = 403
    title = "Forbidden"


class QuotaExceededError(LakegateError):
    """A tenant quota or rate limit is exhausted."""

    exit_code = ExitCode.FAILED
    http_status = 429
    transient = True
    title = "Quota exceeded"

    def __init__(self, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class SourceError(LakegateError):
    """A source system failed: unreachable, unknown table, permission denied."""

    exit_code = ExitCode.FAILED
    http_status = 502
    title = "Source error"

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class StorageError(LakegateError):
    """The lake could not be read or written."""

    exit_code = ExitCode.FAILED
    http_status = 502
    title = "Storage error"


class DatasetError(LakegateError):
    """A dataset given to the quality engine cannot be read (bad path, missing column)."""

    exit_code = ExitCode.BAD_INPUT
    http_status = 422
    title = "Invalid dataset"
