"""Tell the caller that a run ended: the ``callBackUri`` contract of Azure Data Factory.

ADF's WebHook activity posts to Lakegate with a ``callBackUri`` and waits until that URL
is called. With ``reportStatusOnCallBack`` the activity fails when the callback carries a
``StatusCode`` of 400 or more, and shows ``Error.Message``. The payload::

    {"Output": {"runId": ..., "jobId": ..., "jobVersion": 1, "status": "succeeded", "href": ...},
     "StatusCode": "200"}
    {"Output": {...}, "StatusCode": "500",
     "Error": {"ErrorCode": "RunFailed", "Message": "step 0 (ingest erp.public.x) failed: ..."}}
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import structlog

from lakegate.catalog.models.runs import Run
from lakegate.jobs.states import RunStatus, is_terminal
from lakegate.observability.redact import redact

log = structlog.get_logger(__name__)

_ERROR_CODES = {
    RunStatus.failed.value: "RunFailed",
    RunStatus.cancelled.value: "RunCancelled",
    RunStatus.timed_out.value: "RunTimedOut",
}


def callback_payload(run: Run) -> dict[str, Any]:
    """The body posted to a run's ``callBackUri`` once it is terminal."""
    payload: dict[str, Any] = {
        "Output": {
            "runId": run.id,
            "jobId": run.job_id,
            "jobVersion": run.job_version,
            "status": run.status,
            "href": f"/api/v1/runs/{run.id}",
        },
        "StatusCode": "200" if run.status == RunStatus.succeeded.value else "500",
    }
    if run.status != RunStatus.succeeded.value:
        payload["Error"] = {
            "ErrorCode": _ERROR_CODES.get(run.status, "RunFailed"),
            "Message": redact(run.error or run.status),
        }
    return payload


def notify(run: Run, *, attempts: int = 3, timeout_s: float = 10.0, backoff_s: float = 1.0) -> bool:
    """POST the outcome of a terminal run to its ``callback_uri``; True when delivered.

    Retries transport errors and 5xx answers; never raises (the run's outcome stands
    whether or not the caller could be told).
    """
    if not run.callback_uri or not is_terminal(run.status):
        return False
    payload = callback_payload(run)
    for attempt in range(1, attempts + 1):
        try:
            response = httpx.post(run.callback_uri, json=payload, timeout=timeout_s)
            if response.status_code < 500:
                log.info("run.callback", run_id=run.id, status=response.status_code)
                return response.status_code < 400
            problem = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            problem = type(exc).__name__
        log.warning("run.callback_failed", run_id=run.id, attempt=attempt, error=problem)
        if attempt < attempts:
            time.sleep(backoff_s * attempt)
    return False
