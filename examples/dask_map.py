#!/usr/bin/env python3
"""Run `tracewire batch - -o -` as the map step of a Dask distributed cluster.

Usage: dask_map.py TRACEWIRE PATHS_FILE [--workers N] [--json OUT]

PATHS_FILE holds one capture, HAR or experiment-folder path per line; the paths
must be readable on every worker (a shared or mounted file system). Each task
pipes its share of the paths into the static binary, exactly as Spark's
RDD.pipe or Hadoop streaming would, and returns the JSON rows it printed and
the failures it reported on standard error. The rows are gathered into a
pandas DataFrame and grouped by tracker and property.

With --json OUT the rows and failures are also written to OUT, for tests.
"""

import argparse
import json
import logging
import subprocess
import sys

import pandas as pd
from dask import bag
from dask.distributed import Client, LocalCluster


def run_tracewire(paths, binary):
    """One map task: paths in on standard input, JSON rows out."""
    paths = list(paths)
    proc = subprocess.run(
        [binary, "batch", "-", "-o", "-", "--jobs", "1"],
        input="".join(p + "\n" for p in paths),
        capture_output=True,
        text=True,
        check=False,
    )
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    # Exit status 1 means some analyses failed; their rows are simply absent
    # and standard error says which, one line each. Anything else is a
    # broken run of the whole task.
    failures = []
    if proc.returncode not in (0, 1):
        failures.append({"paths": paths, "error": proc.stderr.strip()})
    elif proc.returncode == 1:
        for line in proc.stderr.splitlines():
            if "FAILED" in line:
                failures.append({"paths": paths, "error": line.strip()})
    return [{"rows": rows, "failures": failures}]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tracewire", help="path of the tracewire binary")
    ap.add_argument("paths_file", help="one input path per line")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", help="also write rows and failures to this file")
    args = ap.parse_args(argv)

    with open(args.paths_file, encoding="utf-8") as f:
        paths = [line.strip() for line in f if line.strip()]

    # Worker processes that talk to the scheduler over TCP, as the machines
    # of a real cluster would; only the addresses are local.
    cluster = LocalCluster(
        n_workers=args.workers,
        threads_per_worker=1,
        processes=True,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
        # Worker shutdown under load logs tracebacks that say nothing of the
        # result; the task outcomes below do.
        silence_logs=logging.CRITICAL,
    )
    with cluster, Client(cluster) as client:
        # One path per partition: a failing input only fails its own task.
        parts = (
            bag.from_sequence(paths, npartitions=max(1, len(paths)))
            .map_partitions(run_tracewire, args.tracewire)
            .compute()
        )

    rows = [r for p in parts for r in p["rows"]]
    failures = [x for p in parts for x in p["failures"]]
    df = pd.DataFrame(rows)
    if not df.empty:
        counts = (
            df.groupby(["tracker", "property"]).size().sort_values(ascending=False)
        )
        print(counts.head(30).to_string())
    print(f"{len(rows)} rows from {len(paths)} inputs, {len(failures)} failed")
    for x in failures:
        print("failed:", x["error"], file=sys.stderr)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"rows": rows, "failures": failures}, f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
