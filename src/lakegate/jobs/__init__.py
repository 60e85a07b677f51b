"""Job definitions, runs and their execution.

* :mod:`~lakegate.jobs.models` — the JobDefinition document (steps by ``type``).
* :mod:`~lakegate.jobs.registry` — tenant-scoped CRUD of jobs, a version per change.
* :mod:`~lakegate.jobs.states` — the Run state machine (one transition table).
* :mod:`~lakegate.jobs.manager` — every state change of a run.
* :mod:`~lakegate.jobs.runs` — trigger (idempotency, quotas) and read runs.
* :mod:`~lakegate.jobs.runner` — execute a run's steps; :mod:`~lakegate.jobs.engines`
  hands them to the ingestion and quality engines.
* :mod:`~lakegate.jobs.executor` — the in-process executor of ``lakegate serve``.
"""
