"""Turn whatever a failed load raised into one line naming the job and the cause.

dlt wraps the source's exception (``PipelineStepFailed`` -> ``ResourceExtractionError``
-> SQLAlchemy -> driver); the cause is recognised from the whole chain and said in the
same words whatever the database (connection refused, authentication failed, unknown
table, permission denied). The result is always passed through
:func:`~lakegate.observability.redact.redact`.
"""

from __future__ import annotations

import re

from lakegate.ingest.models import IngestJob
from lakegate.observability.redact import redact
from lakegate.secrets.credentials import SourceCredentials

_MAX = 300


def exception_chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and everything it wraps (dlt's ``.exception``, ``__cause__``, ``__context__``)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 20:
        chain.append(current)
        inner = getattr(current, "exception", None)
        if not isinstance(inner, BaseException):
            inner = current.__cause__ or current.__context__
        current = inner
    return chain


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _where(job: IngestJob) -> str:
    return f"{job.schema_name}.{job.table_name}" if job.schema_name else job.table_name


def _endpoint(creds: SourceCredentials | None) -> str:
    if creds is None or not creds.host:
        return "the source"
    return f"{creds.host}:{creds.port}" if creds.port else creds.host


_RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"connection refused|can't connect to|could not connect|errno 111"),
        "cannot connect to {endpoint}: connection refused",
    ),
    (
        re.compile(r"timeout expired|timed out|connection timed out"),
        "cannot connect to {endpoint}: timed out",
    ),
    (
        re.compile(r"name or service not known|could not translate host|nodename nor servname"),
        "cannot connect to {endpoint}: unknown host",
    ),
    (
        re.compile(
            r"password authentication failed|authentication failed|"
            r"access denied for user .*using password|login failed"
        ),
        "authentication failed for user {user} at {endpoint}",
    ),
    (
        re.compile(r"unknown database|database \"[^\"]*\" does not exist|ora-12514"),
        "unknown database at {endpoint}",
    ),
    (
        re.compile(r"permission denied|command denied|access denied|insufficient privileges"),
        "permission denied reading {table}",
    ),
    (
        re.compile(
            r"nosuchtableerror|relation \"[^\"]*\" does not exist|doesn't exist|"
            r"no such table|invalid object name|ora-00942"
        ),
        "unknown table {table}",
    ),
]


def describe_failure(
    exc: BaseException, job: IngestJob, creds: SourceCredentials | None = None
) -> str:
    """One line ``job <id>: <cause>`` with every secret masked."""
    from lakegate.errors import LakegateError

    chain = exception_chain(exc)
    own = next((e for e in chain if isinstance(e, LakegateError)), None)
    if own is not None:
        return _finish(job, str(own))
    text = " | ".join(f"{type(e).__name__}: {e}" for e in chain).lower()
    values = {
        "endpoint": _endpoint(creds),
        "user": (creds.username if creds and creds.username else "?"),
        "table": _where(job),
    }
    for pattern, template in _RULES:
        if pattern.search(text):
            return _finish(job, template.format(**values))
    root = chain[-1]
    detail = _first_line(str(root)) or type(root).__name__
    return _finish(job, f"{type(root).__name__}: {detail}")


def _finish(job: IngestJob, cause: str) -> str:
    line = " ".join(redact(cause).split())
    if len(line) > _MAX:
        line = line[: _MAX - 3] + "..."
    return f"job {job.job_id}: {line}"
