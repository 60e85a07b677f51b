"""structlog configuration: console or JSON lines, correlation ids, secrets masked.

Correlation ids (``run_id``, ``job_id``, ``tenant_id``, ``trace_id``) are bound with
:func:`bind_correlation` into contextvars and appear on every line logged inside.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog

from lakegate.observability.redact import redact


def _redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> Mapping[str, Any]:
    for key, value in list(event_dict.items()):
        if isinstance(value, str):
            event_dict[key] = redact(value)
        elif isinstance(value, BaseException):
            event_dict[key] = redact(str(value))
    return event_dict


class _CurrentStderr:
    """A file that writes to whatever ``sys.stderr`` is at the time of the write.

    Binding the stream at configuration time breaks when a caller (pytest's capture, an
    in-process CLI run) swaps and closes ``sys.stderr`` afterwards.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO", fmt: str = "console") -> None:
    """Configure structlog and the stdlib root logger (stderr, one event per line)."""
    log_level = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redact_event,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(log_level),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    # Third-party loggers (dlt, sqlalchemy, azure) go through the same redaction.
    handler = logging.StreamHandler(_CurrentStderr())  # type: ignore[arg-type]
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(processors=[*shared[1:], renderer]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(log_level, logging.WARNING))


def get_logger(name: str | None = None) -> Any:
    """A structlog logger bound to ``name``."""
    return structlog.get_logger(name)


@contextmanager
def bind_correlation(**ids: str | None) -> Iterator[None]:
    """Bind correlation ids (run_id, job_id, tenant_id, trace_id) for the block."""
    values = {k: v for k, v in ids.items() if v is not None}
    with structlog.contextvars.bound_contextvars(**values):
        yield
