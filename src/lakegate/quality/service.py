"""Run a rule set against a dataset: resolve, compile, scan once, evaluate, sample, record.

:func:`check` is what ``lakegate check``, the ingestion pipeline and the job runner call.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlglot import exp

from lakegate.errors import ConfigError
from lakegate.lake.storage import Lake
from lakegate.observability.logging import get_logger
from lakegate.quality.checks.base import MAIN, CheckInputs
from lakegate.quality.compiler import ROWS_ALIAS, Plan, PlannedCheck, compile_rules
from lakegate.quality.datasets import Dataset, resolve_dataset, resolve_related
from lakegate.quality.engines.base import Engine, EngineQueryError
from lakegate.quality.evaluate import Observation, errored, evaluate
from lakegate.quality.history import HistoryStore, run_record
from lakegate.quality.models import RuleSet, load_rules
from lakegate.quality.results import CheckResult, QualityResult
from lakegate.settings import Settings

log = get_logger(__name__)

ENGINES = ("duckdb", "spark", "sql")
"""Values of ``engine``; a database dataset always runs by pushdown ("sql")."""


def open_engine(name: str, dataset: Dataset, settings: Settings) -> Engine:
    """The engine that runs checks on ``dataset`` (heavy engines imported lazily)."""
    if name not in ENGINES:
        raise ConfigError(f"engine {name!r}: expected one of {', '.join(ENGINES)}")
    if dataset.kind == "sql":
        from lakegate.quality.engines.sql import SqlEngine

        assert dataset.url is not None
        return SqlEngine(dataset.url)
    if name == "sql":
        raise ConfigError(f"engine sql: dataset {dataset.spec} is not a database table")
    if name == "spark":
        from lakegate.quality.engines.spark import SparkEngine  # type: ignore[import-not-found,unused-ignore]

        engine: Engine = SparkEngine(settings)
        return engine
    from lakegate.quality.engines.duckdb import DuckDBEngine

    # LAKEGATE_DUCKDB_*: a memory limit makes big GROUP BYs (unique) spill, not grow.
    tuning = settings.duckdb
    return DuckDBEngine(
        threads=tuning.threads,
        memory_limit=tuning.memory_limit,
        temp_directory=tuning.temp_directory,
        perfect_hash_bits=tuning.perfect_hash_bits,
        statistics=tuning.parquet_statistics,
    )


class _Run:
    """State of one validation run (kept small: values and results, never data)."""

    def __init__(
        self,
        rules: RuleSet,
        dataset: Dataset,
        engine: Engine,
        *,
        lake: Lake | None,
        settings: Settings,
        samples: int,
    ) -> None:
        self.rules = rules
        self.dataset = dataset
        self.engine = engine
        self.lake = lake
        self.settings = settings
        self.samples = samples
        self.queries = 0
        self.sampled_rows: dict[int, list[dict[str, Any]]] = {}
        """Rows of plan queries that double as samples, by query index."""
        self._ref_columns: dict[str, Mapping[str, str]] = {}

    def ref_columns(self, spec: str, placeholder: str) -> Mapping[str, str]:
        if placeholder not in self._ref_columns:
            other = resolve_related(spec, self.dataset, lake=self.lake, settings=self.settings)
            self._ref_columns[placeholder] = self.engine.bind(placeholder, other)
        return self._ref_columns[placeholder]

    def fetch(self, query: Any, limit: int | None = None) -> list[dict[str, Any]]:
        self.queries += 1
        return self.engine.fetch(query, limit)

    def statistics_answers(
        self, plan: Plan, columns: Mapping[str, str]
    ) -> tuple[dict[int, dict[str, Any]], int | None]:
        """Metric values of the checks that metadata statistics decide (by check index)
        and the row count they give; nothing when the rule file has a filter."""
        if plan.filtered:
            return {}, None
        candidates = [p for p in plan.checks if p.metrics and p.check.filter is None]
        if not candidates:
            return {}, None
        wanted = {
            name: columns[name]
            for planned in candidates
            for name in planned.check.columns_used()
            if name in columns
        }
        stats = self.engine.metadata_statistics(MAIN, wanted)
        if stats is None:
            return {}, None
        answers: dict[int, dict[str, Any]] = {}
        for planned in candidates:
            values = planned.implementation.from_statistics(planned.check, stats)
            if values is not None and set(values) == set(planned.metrics):
                answers[planned.index] = values
        return answers, stats.rows

    def scan(
        self, plan: Plan, answered: Mapping[int, Any], metadata_rows: int | None
    ) -> tuple[dict[str, Any], dict[int, str]]:
        """Scan values by alias (only the metrics ``answered`` checks do not cover), and
        checks whose metrics could not be computed."""
        needed = {a for p in plan.checks if p.index not in answered for a in p.metrics.values()}
        if plan.rows_only(needed):
            rows = metadata_rows
            if rows is None:
                rows = self.engine.metadata_row_count(MAIN)
            if rows is not None:
                return {ROWS_ALIAS: rows}, {}
        scan = plan.scan_for(needed)
        try:
            return self.fetch(scan)[0], {}
        except EngineQueryError as whole:
            # One bad expression fails the whole scan; find which checks it belongs to so
            # the others still get a result (error path only: one query per check).
            log.warning("quality scan failed, isolating checks", error=str(whole))
            values: dict[str, Any] = {}
            failures: dict[int, str] = {}
            for planned in plan.checks:
                if not planned.metrics or planned.index in answered:
                    continue
                try:
                    values.update(self.fetch(plan.scan_for(set(planned.metrics.values())))[0])
                except EngineQueryError as exc:
                    failures[planned.index] = str(exc)
            if ROWS_ALIAS not in values:
                values[ROWS_ALIAS] = self.fetch(plan.scan_for(set()))[0][ROWS_ALIAS]
            return values, failures

    def extra_queries(self, plan: Plan) -> tuple[list[dict[str, Any]], dict[int, str]]:
        rows: list[dict[str, Any]] = []
        failures: dict[int, str] = {}
        owner = {i: p.index for p in plan.checks for i in p.queries.values()}
        sampled = {i for p in plan.checks for i in p.sampled_queries}
        for position, query in enumerate(plan.queries):
            try:
                limit = max(self.samples, 1) if position in sampled else 1
                found = self.fetch(query, limit=limit)
                rows.append(found[0] if found else {})
                if position in sampled:
                    self.sampled_rows[position] = found[: self.samples]
            except EngineQueryError as exc:
                rows.append({})
                failures[owner[position]] = str(exc)
        return rows, failures

    def judge(
        self,
        planned: PlannedCheck,
        scan: dict[str, Any],
        answered: Mapping[int, dict[str, Any]],
        extra: list[dict[str, Any]],
        history: list[dict[str, Any]],
        columns: Mapping[str, str],
        now: datetime,
    ) -> tuple[CheckResult, Observation | None]:
        metrics = answered.get(planned.index) or {
            role: scan.get(alias) for role, alias in planned.metrics.items()
        }
        inputs = CheckInputs(
            metrics=metrics,
            queries={role: extra[i] for role, i in planned.queries.items()},
            rows=scan.get(ROWS_ALIAS),
            columns=columns,
            history=history,
            now=now,
            dialect=self.engine.dialect,
        )
        try:
            observation = planned.implementation.observe(planned.check, inputs)
        except (TypeError, ValueError, KeyError) as exc:
            return errored(planned.check, f"cannot evaluate: {exc}"), None
        return evaluate(planned.check, observation), observation

    def add_samples(self, judged: list[tuple[PlannedCheck, CheckResult]]) -> None:
        """Failed-row samples of the failing checks: the rows their own query already
        returned (unique), else one bounded query each, handed to the engine together."""
        if self.samples <= 0:
            return
        pending: list[tuple[exp.Query, CheckResult]] = []
        for planned, result in judged:
            if result.status not in ("fail", "warn"):
                continue
            if planned.sampled_queries:
                position = min(planned.sampled_queries)
                result.samples = [
                    {k: v for k, v in row.items() if not k.startswith("lg_")}
                    for row in self.sampled_rows.get(position, [])
                ]
            elif planned.samples is not None:
                pending.append((planned.samples, result))
        self.queries += len(pending)
        found = self.engine.fetch_samples_many([query for query, _ in pending], self.samples)
        for (_, result), rows in zip(pending, found, strict=True):
            if isinstance(rows, EngineQueryError):
                log.warning("failed-row samples unavailable", check=result.name, error=str(rows))
            else:
                result.samples = rows


def _rules_of(rules: str | Path | RuleSet | Any) -> RuleSet:
    if isinstance(rules, RuleSet):
        return rules
    if isinstance(rules, str | Path):
        return load_rules(rules)
    raise ConfigError(f"rules: expected a rule file path or a RuleSet, got {type(rules).__name__}")


def check(
    rules: str | Path | Any,
    dataset: str,
    *,
    settings: Settings,
    lake: Lake | None = None,
    engine: str = "duckdb",
    samples: int = 10,
) -> QualityResult:
    """Validate ``dataset`` with ``rules`` (a rule file path or a parsed :class:`RuleSet`).

    ``dataset`` is resolved by :func:`~lakegate.quality.datasets.resolve_dataset` (lake
    table names under ``lake``, default the settings' lake). Returns a
    :class:`~lakegate.quality.results.QualityResult`; raises ConfigError / DatasetError
    (exit 2) for unreadable rules, a missing column or a bad dataset. The run's metrics
    and schema are appended to the lake's ``_quality/`` history.
    """
    started = time.perf_counter()
    now = datetime.now(UTC)
    rule_set = _rules_of(rules)
    if samples < 0:
        raise ConfigError(f"samples: must be 0 or more, got {samples}")
    if lake is None:
        lake = Lake.from_url(settings.lake.url, settings)
    resolved = resolve_dataset(dataset, lake=lake, settings=settings)
    name = rule_set.dataset or resolved.name
    with open_engine(engine, resolved, settings) as runner_engine:
        run = _Run(rule_set, resolved, runner_engine, lake=lake, settings=settings, samples=samples)
        columns = dict(runner_engine.bind(MAIN, resolved))
        plan = compile_rules(rule_set, columns, dataset=name, ref_columns=run.ref_columns)
        for placeholder, spec in plan.refs.items():  # datasets read without column checks
            run.ref_columns(spec, placeholder)
        store = HistoryStore(lake)
        needs_history = any(p.implementation.needs_history for p in plan.checks)
        history = store.runs(name) if needs_history else []
        answered, metadata_rows = run.statistics_answers(plan, columns)
        scan, failures = run.scan(plan, answered, metadata_rows)
        extra, query_failures = run.extra_queries(plan)
        failures.update(query_failures)
        results: list[CheckResult] = []
        judged: list[tuple[PlannedCheck, CheckResult]] = []
        recorded: dict[str, Any] = {}
        for planned in plan.checks:
            if planned.index in failures:
                results.append(errored(planned.check, failures[planned.index]))
                continue
            result, observation = run.judge(planned, scan, answered, extra, history, columns, now)
            judged.append((planned, result))
            results.append(result)
            recorded[result.name] = result.observed_value
            if observation is not None:
                recorded.update(observation.history_values)
        run.add_samples(judged)
        rows = scan.get(ROWS_ALIAS)
        result_set = QualityResult(
            dataset=name,
            rows=int(rows) if rows is not None else None,
            checks=results,
            duration_s=time.perf_counter() - started,
            engine=runner_engine.name,
            queries=run.queries,
        )
    try:
        store.append(
            name,
            run_record(
                result_set,
                run_at=now,
                schema=columns,
                metrics=recorded,
                dialect=runner_engine.dialect,
            ),
        )
    except OSError as exc:
        # The result stands even when the history cannot be written (read-only lake).
        log.warning("quality history not written", dataset=name, error=str(exc))
    # Debug: every door (CLI table, JSON, runner summary) already presents the result.
    log.debug(
        "quality check finished",
        dataset=name,
        status=result_set.status,
        rows=result_set.rows,
        failed=result_set.failed_checks,
        queries=run.queries,
        from_statistics=[plan.checks[i].check.check_name for i in sorted(answered)],
        duration_s=round(result_set.duration_s, 3),
    )
    return result_set
