"""Quality engine benchmark: `lakegate check` against a hand-written DuckDB floor and peers.

    .venv/bin/python bench/quality.py                        # 10M rows, every contender
    .venv/bin/python bench/quality.py --rows 50000000 --contenders lakegate,floor
    .venv/bin/python bench/quality.py --rows 1000000 --contenders lakegate,floor,gx

Builds (once, cached in bench/.data/) a deterministic 12-column orders Parquet file, then
runs the same 12 checks (unique, not_null x2, accepted_values x2, between x2, regex x2,
length, freshness, row_count) with each contender **as its own process**, measuring wall
seconds and peak RSS (``wait4`` rusage of that process and the children it reaped):

* ``lakegate``   - ``lakegate check --rules ... --output json`` (DuckDB engine; samples on)
* ``lakegate-nosamples`` - the same with ``--samples 0``
* ``floor``      - one hand-written single-pass DuckDB aggregate + the unique GROUP BY,
                   run by this script (the fastest way to get the same numbers)
* ``gx``         - Great Expectations 1.x on pandas (the suite's 12 expectations)
* ``pandera``    - pandera on polars (a DataFrameSchema with the same checks)
* ``spark``      - ``lakegate check --engine spark`` (local[2])

Contenders run round robin (``--repeat N`` rounds, each running every contender once):
the best run of each is reported, and beside it the median over rounds of its time over
the floor's in the same round ("paired"), which a VM whose speed drifts over minutes
does not skew. Failed-row counts of lakegate are compared with the floor's: a benchmark
of wrong answers is worthless. Not a test: run by hand, figures go to docs/quality-report.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / ".data"
VENV_BIN = Path(sys.executable).parent
EMAIL = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"  # the 'email' preset
SKU = r"^SKU-[0-9]{6}$"
STATUSES = ["placed", "shipped", "delivered", "returned", "cancelled"]
CURRENCIES = ["EUR", "USD", "GBP"]
FRESH_CUTOFF = "2016-11-01 00:00:00"  # created_at max must be newer: max_age 3650d
CONTENDERS = ["floor", "lakegate", "lakegate-nosamples", "gx", "pandera", "spark"]

RULES = {
    "dataset": "orders",
    "keys": ["order_id"],
    "checks": [
        {"name": "order_id_unique", "type": "unique", "column": "order_id"},
        {"name": "customer_not_null", "type": "not_null", "column": "customer_id"},
        {"name": "email_not_null", "type": "not_null", "column": "email", "mostly": 0.99},
        {"name": "status_values", "type": "accepted_values", "column": "status",
         "values": STATUSES},
        {"name": "currency_values", "type": "accepted_values", "column": "currency",
         "values": CURRENCIES},
        {"name": "amount_range", "type": "between", "column": "amount", "min": 0,
         "max": 10000},
        {"name": "quantity_range", "type": "between", "column": "quantity", "min": 1,
         "max": 100},
        {"name": "email_format", "type": "regex", "column": "email", "preset": "email"},
        {"name": "sku_format", "type": "regex", "column": "sku", "pattern": SKU},
        {"name": "country_code", "type": "length", "column": "country", "equals": 2},
        {"name": "fresh", "type": "freshness", "column": "created_at", "max_age": "3650d"},
        {"name": "has_rows", "type": "row_count", "min": 1},
    ],
}  # fmt: skip


# --------------------------------------------------------------------------- data


def dataset_path(rows: int, seed: int) -> Path:
    """Build (once) the orders Parquet file for ``rows`` and ``seed``; return its path."""
    import duckdb

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"orders_{rows}_{seed}.parquet"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    h = lambda k: f"hash(i, {k}, {seed})"  # noqa: E731 - deterministic per row and seed
    statuses = ", ".join(f"'{s}'" for s in STATUSES)
    sql = f"""
    COPY (
      SELECT
        CASE WHEN i % 1000003 = 999 THEN i ELSE i + 1 END                     AS order_id,
        CASE WHEN {h(1)} % 1000 = 0 THEN NULL ELSE ({h(1)} % 500000)::BIGINT END AS customer_id,
        DATE '2026-01-01' + (i % 300)::INTEGER                               AS order_date,
        TIMESTAMP '2026-01-01' + to_seconds((i % 25000000)::BIGINT)          AS created_at,
        CASE WHEN {h(2)} % 10007 = 0 THEN 'unknown'
             ELSE ([{statuses}])[1 + ({h(2)} % 5)::INTEGER] END              AS status,
        CASE WHEN {h(3)} % 5003 = 0 THEN -1.0
             ELSE ({h(3)} % 1000000)::DOUBLE / 100 END                        AS amount,
        (1 + {h(4)} % 20)::INTEGER                                           AS quantity,
        (['EUR', 'USD', 'GBP'])[1 + ({h(4)} % 3)::INTEGER]                   AS currency,
        CASE WHEN {h(5)} % 997 = 0 THEN NULL
             WHEN {h(5)} % 20011 = 0 THEN 'user' || ({h(1)} % 500000) || '.example.com'
             ELSE 'user' || ({h(1)} % 500000) || '@example.com' END          AS email,
        CASE WHEN {h(6)} % 30011 = 0 THEN 'USA'
             ELSE (['FR', 'DE', 'US', 'GB', 'ES', 'IT'])[1 + ({h(6)} % 6)::INTEGER] END AS country,
        'SKU-' || lpad(({h(7)} % 1000000)::VARCHAR, 6, '0')                  AS sku,
        ({h(8)} % 50)::DOUBLE / 100                                          AS discount
      FROM range({rows}) t(i)
    ) TO '{tmp}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)
    """
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(sql)
    con.close()
    tmp.rename(path)
    size = path.stat().st_size / 1e6
    took = time.perf_counter() - started
    print(f"built {path.name}: {rows:,} rows, {size:.0f} MB in {took:.1f}s")
    return path


# --------------------------------------------------------------------------- workers
# Each runs in its own process (python bench/quality.py --worker NAME ...) and writes
# {"seconds": ..., "failed": {check: rows}} to --result.


def _floor(data: Path) -> dict[str, Any]:
    """The same numbers with the least work: one aggregate scan + one GROUP BY."""
    import duckdb

    src = f"read_parquet('{data}')"
    statuses = ", ".join(f"'{s}'" for s in STATUSES)
    currencies = ", ".join(f"'{c}'" for c in CURRENCIES)
    con = duckdb.connect()
    scan = con.execute(f"""
        SELECT count(*) AS has_rows,
          count_if(customer_id IS NULL) AS customer_not_null,
          count_if(email IS NULL) AS email_not_null,
          count_if(status NOT IN ({statuses})) AS status_values,
          count_if(currency NOT IN ({currencies})) AS currency_values,
          count_if(amount < 0 OR amount > 10000) AS amount_range,
          count_if(quantity < 1 OR quantity > 100) AS quantity_range,
          count_if(NOT regexp_matches(email, '{EMAIL}')) AS email_format,
          count_if(NOT regexp_matches(sku, '{SKU}')) AS sku_format,
          count_if(length(country) <> 2) AS country_code,
          max(created_at) >= TIMESTAMP '{FRESH_CUTOFF}' AS fresh
        FROM {src}""")
    names = [d[0] for d in scan.description]
    values = dict(zip(names, scan.fetchone(), strict=True))
    (dups,) = con.execute(f"""
        SELECT coalesce(sum(n), 0) FROM (
          SELECT count(*) AS n FROM {src} WHERE order_id IS NOT NULL
          GROUP BY order_id HAVING count(*) > 1)""").fetchone()
    values["order_id_unique"] = int(dups)
    values["fresh"] = 0 if values["fresh"] else 1
    values["has_rows"] = 0 if values["has_rows"] >= 1 else 1
    return {k: int(v) for k, v in values.items()}


def _gx(data: Path) -> dict[str, Any]:
    """Great Expectations 1.x, pandas: the suite's 12 expectations on one batch."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    import pandas as pd

    frame = pd.read_parquet(data)
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_pandas("bench")
    batch = (
        source.add_dataframe_asset("orders")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name="orders")
    expectations = (
        gxe.ExpectColumnValuesToBeUnique(column="order_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="customer_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="email", mostly=0.99),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=STATUSES),
        gxe.ExpectColumnValuesToBeInSet(column="currency", value_set=CURRENCIES),
        gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0, max_value=10000),
        gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=1, max_value=100),
        gxe.ExpectColumnValuesToMatchRegex(column="email", regex=EMAIL),
        gxe.ExpectColumnValuesToMatchRegex(column="sku", regex=SKU),
        gxe.ExpectColumnValueLengthsToEqual(column="country", value=2),
        gxe.ExpectColumnMaxToBeBetween(
            column="created_at", min_value=datetime.fromisoformat(FRESH_CUTOFF)
        ),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
    )
    for check, expectation in zip(RULES["checks"], expectations, strict=True):
        expectation.meta = {"check": check["name"]}
        suite.add_expectation(expectation)
    result = batch.validate(suite, result_format="SUMMARY")
    failed = {}
    # GX does not keep the suite's order in its results: match them by their meta tag.
    for item in result.results:
        count = item.result.get("unexpected_count")
        name = item.expectation_config.meta["check"]
        failed[name] = int(count) if count is not None else (0 if item.success else 1)
    return failed


def _pandera(data: Path) -> dict[str, Any]:
    """pandera on polars: one schema, lazy validation collecting every failure."""
    import pandera.polars as pa
    import polars as pl
    from pandera.errors import SchemaErrors

    cutoff = datetime.fromisoformat(FRESH_CUTOFF)

    def mostly_not_null(data: Any) -> Any:
        return data.lazyframe.select(pl.col(data.key).is_not_null().mean() >= 0.99)

    def fresh(data: Any) -> Any:
        return data.lazyframe.select(pl.col(data.key).max() >= cutoff)

    schema = pa.DataFrameSchema(
        {
            "order_id": pa.Column(pl.Int64, unique=True),
            "customer_id": pa.Column(pl.Int64, nullable=False),
            "email": pa.Column(
                pl.Utf8, [pa.Check(mostly_not_null), pa.Check.str_matches(EMAIL)], nullable=True
            ),
            "status": pa.Column(pl.Utf8, pa.Check.isin(STATUSES), nullable=True),
            "currency": pa.Column(pl.Utf8, pa.Check.isin(CURRENCIES), nullable=True),
            "amount": pa.Column(pl.Float64, pa.Check.in_range(0, 10000), nullable=True),
            "quantity": pa.Column(pl.Int32, pa.Check.in_range(1, 100), nullable=True),
            "sku": pa.Column(pl.Utf8, pa.Check.str_matches(SKU), nullable=True),
            "country": pa.Column(pl.Utf8, pa.Check.str_length(2, 2), nullable=True),
            "created_at": pa.Column(pl.Datetime, pa.Check(fresh), nullable=True),
        },
        checks=[pa.Check(lambda data: data.lazyframe.select(pl.len() >= 1))],
    )
    frame = pl.read_parquet(data)
    try:
        schema.validate(frame, lazy=True)
        failures = 0
    except SchemaErrors as exc:
        failures = len(exc.failure_cases)
    return {"failure_cases": failures}


WORKERS = {"floor": _floor, "gx": _gx, "pandera": _pandera}


def run_worker(name: str, data: Path, result_file: Path) -> None:
    """Worker process entry: time the contender's own work and write its result."""
    if name == "build":
        rows, seed = (int(part) for part in data.stem.split("_")[1:3])
        dataset_path(rows, seed)
        return
    started = time.perf_counter()
    failed = WORKERS[name](data)
    result_file.write_text(json.dumps({"seconds": time.perf_counter() - started, "failed": failed}))


# --------------------------------------------------------------------------- driver


def _tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants now (Linux /proc), in MB.

    Needed for Spark: the JVM is a child that pyspark does not reap, so its memory never
    shows in the driver's rusage."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * page
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total / 1e6


def _measure(
    cmd: list[str], env: dict[str, str], timeout: float, stdout: Path
) -> tuple[float, dict[str, float], int]:
    """Wall seconds, usage (peak RSS incl. descendants, CPU s) and exit code of a process."""
    err_path = stdout.with_suffix(".err")
    with stdout.open("w") as out, err_path.open("w") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        deadline = started + timeout
        peak_tree, polls = 0.0, 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise TimeoutError(f"{' '.join(cmd[1:3])} did not finish in {timeout:.0f}s")
            if polls % 10 == 0:  # a /proc walk every 0.5 s: cheap next to the work measured
                peak_tree = max(peak_tree, _tree_rss_mb(proc.pid))
            polls += 1
            time.sleep(0.05)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd[:3])} exited {code}: {err_path.read_text()[-800:]}")
    figures = _usage(usage)
    figures["rss_mb"] = max(figures["rss_mb"], peak_tree)
    return seconds, figures, code


def run_contender(
    name: str, data: Path, work: Path, timeout: float, spark_memory: str
) -> dict[str, Any]:
    """Run one contender as a process; return its figures (and failed counts when known)."""
    env = dict(os.environ)
    env["LAKEGATE_LOG_LEVEL"] = "WARNING"
    result_file = work / f"{name}.json"
    if name.startswith("lakegate") or name == "spark":
        rules = work / "rules.yml"
        import yaml

        rules.write_text(yaml.safe_dump(RULES, sort_keys=False))
        lake = work / f"lake-{name}"
        shutil.rmtree(lake, ignore_errors=True)
        cmd = [str(VENV_BIN / "lakegate"), "check", "--rules", str(rules), str(data),
               "--output", "json", "--lake", str(lake)]  # fmt: skip
        if name == "lakegate-nosamples":
            cmd += ["--samples", "0"]
        if name == "spark":
            cmd += ["--engine", "spark"]
            env["LAKEGATE_SPARK_DRIVER_MEMORY"] = spark_memory
        seconds, usage, _ = _measure(cmd, env, timeout, result_file)
        doc = json.loads(result_file.read_text())
        failed = {c["name"]: c["failed_rows"] for c in doc["checks"]}
        for c in doc["checks"]:
            if c["failed_rows"] is None:  # metric checks: 0 pass / 1 fail, like the floor
                failed[c["name"]] = 0 if c["status"] == "pass" else 1
        return {"seconds": seconds, **usage, "failed": failed}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name,
           "--data", str(data), "--result", str(result_file)]  # fmt: skip
    seconds, usage, _ = _measure(cmd, env, timeout, work / f"{name}.out")
    inner = json.loads(result_file.read_text())
    return {"seconds": seconds, **usage, "inner_s": inner["seconds"], **inner}


def _usage(usage: Any) -> dict[str, float]:
    """Peak RSS (MB) and CPU seconds (user + system) from a rusage.

    CPU seconds are reported beside wall seconds because on a shared machine wall time
    depends on everyone else's load, while the work a contender does does not."""
    return {"rss_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime}


def _paired_ratios(runs: list[dict[str, Any]], floor: list[dict[str, Any]]) -> float | None:
    """Median over rounds of the wall time of ``runs`` / that of ``floor`` in the same
    round (any base contender can stand for the floor)."""
    ratios = sorted(
        run["seconds"] / base["seconds"]
        for run, base in zip(runs, floor, strict=False)
        if "seconds" in run and "seconds" in base
    )
    return ratios[len(ratios) // 2] if ratios else None


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the data, run the contenders, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds; each runs every contender once"
    )
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--spark-memory", default="2g")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--worker", choices=[*sorted(WORKERS), "build"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args.worker, args.data, args.result)
        return 0

    # Built in a child: a forked child starts with its parent's peak RSS, so the driver
    # must stay small for the children's rusage to mean anything.
    data = DATA_DIR / f"orders_{args.rows}_{args.seed}.parquet"
    if not data.exists():
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--worker", "build",
             "--data", str(data), "--result", os.devnull],
            check=True,
        )  # fmt: skip
    names = [n.strip() for n in args.contenders.split(",") if n.strip()]
    unknown = set(names) - set(CONTENDERS)
    if unknown:
        parser.error(f"unknown contenders: {', '.join(sorted(unknown))}")
    figures: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="lg-bench-") as tmp:
        work = Path(tmp)
        # Round robin, not one contender after another: this VM's speed drifts over
        # minutes (shared cores), and a ratio of runs minutes apart measures the drift.
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        for round_no in range(1, args.repeat + 1):
            for name in names:
                if runs[name] and "error" in runs[name][-1]:
                    continue
                try:
                    run = run_contender(name, data, work, args.timeout, args.spark_memory)
                except (RuntimeError, TimeoutError, ImportError) as exc:
                    run = {"error": str(exc)}
                runs[name].append(run)
                shown = run.get("error") or (
                    f"{run['seconds']:.2f}s, {run['cpu_s']:.1f} cpu s, {run['rss_mb']:.0f} MB"
                )
                print(f"  round {round_no} {name:<20} {shown}", flush=True)
        for name, done in runs.items():
            figures[name] = dict(min(done, key=lambda r: r.get("seconds", 1e18)))
            figures[name]["paired"] = _paired_ratios(done, runs.get("floor", []))
            figures[name]["runs"] = done

    floor = figures.get("floor", {}).get("seconds")
    floor_cpu = figures.get("floor", {}).get("cpu_s")
    print(f"\n{args.rows:,} rows, 12 checks ({data.name}, {data.stat().st_size / 1e6:.0f} MB)")
    print(
        f"{'contender':<20} {'wall s':>8} {'x floor':>8} {'paired':>8} {'cpu s':>8} "
        f"{'x floor':>8} {'peak RSS MB':>12}"
    )
    for name, fig in figures.items():
        if "error" in fig:
            print(f"{name:<20} {'error: ' + fig['error'][:70]}")
            continue
        ratio = f"{fig['seconds'] / floor:.2f}" if floor else "-"
        paired = f"{fig['paired']:.2f}" if fig.get("paired") else "-"
        cpu_ratio = f"{fig['cpu_s'] / floor_cpu:.2f}" if floor_cpu else "-"
        print(
            f"{name:<20} {fig['seconds']:>8.2f} {ratio:>8} {paired:>8} {fig['cpu_s']:>8.1f} "
            f"{cpu_ratio:>8} {fig['rss_mb']:>12.0f}"
        )
    ours = figures.get("lakegate", {}).get("runs")
    for peer in ("gx", "pandera", "spark"):
        ratio_to_ours = _paired_ratios(figures.get(peer, {}).get("runs", []), ours or [])
        if ratio_to_ours:
            print(f"{peer} wall / lakegate wall, median of rounds: {ratio_to_ours:.2f}")
    reference = figures.get("floor", {}).get("failed")
    for name in ("lakegate", "lakegate-nosamples", "spark", "gx"):
        got = figures.get(name, {}).get("failed")
        if reference and got:
            diff = {k: (v, got.get(k)) for k, v in reference.items() if got.get(k) != v}
            print(f"{name} failed-row counts vs floor: {diff if diff else 'identical'}")
    if args.json:
        args.json.write_text(json.dumps({"rows": args.rows, "at": datetime.now(UTC).isoformat(),
                                         "figures": figures}, indent=2, default=str))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
