"""Scaling benchmark: one global multicut against MSM (multi-stage multicuts) on 10k-100k embeddings.

Not a test: it prints a table of wall times, speed-ups and clustering accuracy. The data are separable
Gaussian blobs in 32-D (``reprobook.multicut.embedding_blobs``), the stand-in for learned embeddings; the
graph is the symmetric kNN graph (k = 10) with costs ``tau - d``, ``tau = sqrt(0.6)`` (Ho 2023, Eq. 2.5).

* global: one kNN graph over all N points, one solve (GAEC by default), in this process;
* MSM, 1 worker: stages (S_1, 1) with S_1 = ceil(N / part_size) parts, solved one after the other;
* MSM, 2 workers: the same plan on a pool of 2 worker processes (one BLAS thread each). The pool is started
  once, before the timings, and its start-up time is printed separately.

Columns: wall seconds of the whole run, of stage 1 and of the merge; the speed-up over the global solve
(wall); the CPU seconds of all parts (graph construction + solve, measured in the workers) and of the
critical path (the slowest part per stage: the time with one free core per part). On a shared machine the
CPU columns are the stable ones; wall times are inflated by other jobs.

Run from the repository root::

    .venv/bin/python benchmarks/multicut_scaling.py                  # 10k, 20k, 50k, 100k
    .venv/bin/python benchmarks/multicut_scaling.py --sizes 10000    # a quick run
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before NumPy loads BLAS: one thread per process

import numpy as np  # noqa: E402

from reprobook.cluster import clustering_accuracy  # noqa: E402
from reprobook.msm import GraphSpec, msm, worker_pool  # noqa: E402
from reprobook.multicut import SOLVERS, embedding_blobs  # noqa: E402


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=positive_int, nargs="+", default=[10_000, 20_000, 50_000, 100_000],
                    help="numbers of points N (default: 10000 20000 50000 100000)")
    ap.add_argument("--k", type=positive_int, default=10, help="neighbours in the kNN graph (default 10)")
    ap.add_argument("--dim", type=positive_int, default=32, help="embedding dimension (default 32)")
    ap.add_argument("--classes", type=positive_int, default=20, help="number of blobs (default 20)")
    ap.add_argument("--hard", type=float, default=0.0, help="share of hard points between blobs (default 0)")
    ap.add_argument("--part-size", type=positive_int, default=5000,
                    help="points per stage-1 part; S_1 = ceil(N / part_size) (default 5000)")
    ap.add_argument("--solver", choices=SOLVERS, default="gaec", help="multicut heuristic (default gaec)")
    ap.add_argument("--jobs", type=positive_int, nargs="+", default=[1, 2],
                    help="worker processes for MSM (default: 1 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-global", action="store_true", help="skip the global solve (it dominates at 100k)")
    args = ap.parse_args(argv)
    if not 0 <= args.hard <= 1:
        ap.error(f"--hard {args.hard}: must be in [0, 1]")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    tau = math.sqrt(0.6)
    first = GraphSpec(kind="knn", k=args.k, tau=tau, solver=args.solver)
    merge = GraphSpec(kind="complete", tau=tau, solver=args.solver)
    pools = {}
    for jobs in args.jobs:
        if jobs > 1:
            t0 = time.perf_counter()
            pools[jobs] = worker_pool(jobs)
            list(pools[jobs].map(abs, range(jobs)))  # make the workers start now
            print(f"pool of {jobs} workers started in {time.perf_counter() - t0:.2f} s (not in the timings)")
    print(f"kNN graph k={args.k}, {args.dim}-D blobs, {args.classes} classes, hard={args.hard}, "
          f"solver={args.solver}, part size {args.part_size}; machine: {os.cpu_count()} CPUs")
    header = f"{'N':>8} {'method':<14} {'S_1':>4} {'wall s':>8} {'stage 1 s':>9} {'merge s':>8} " \
             f"{'speed-up':>8} {'CPU s':>7} {'crit. CPU s':>11} {'ACC %':>7} {'ACC-global':>10} {'clusters':>8}"
    print(header)
    print("-" * len(header))
    try:
        for n in args.sizes:
            Z, y = embedding_blobs(n, args.classes, args.dim, hard=args.hard, seed=args.seed)
            rows = []
            if not args.no_global:
                res = msm(Z, (1,), first=first, seed=args.seed)
                rows.append(("global", 1, res))
            s1 = max(2, math.ceil(n / args.part_size))
            for jobs in args.jobs:
                res = msm(Z, (s1, 1), first=first, merge=merge, seed=args.seed, executor=pools.get(jobs))
                rows.append((f"MSM {jobs} worker{'s' * (jobs > 1)}", s1, res))
            base = rows[0][2] if not args.no_global else None
            base_acc = clustering_accuracy(y, base.labels) if base else float("nan")
            for name, parts, res in rows:
                acc = clustering_accuracy(y, res.labels)
                merge_s = sum(s.wall for s in res.stages[1:])
                speed = base.wall / res.wall if base else float("nan")
                print(f"{n:>8} {name:<14} {parts:>4} {res.wall:>8.2f} {res.stages[0].wall:>9.2f} {merge_s:>8.2f} "
                      f"{speed:>8.1f} {res.total_cpu:>7.2f} {res.critical_cpu:>11.2f} {100 * acc:>7.2f} "
                      f"{100 * (acc - base_acc):>10.2f} {int(res.labels.max()) + 1:>8}")
            sys.stdout.flush()
    finally:
        for pool in pools.values():
            pool.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
