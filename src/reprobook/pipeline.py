"""Execute chapters: Jupytext source -> notebook -> Papermill run -> results file, cached and in parallel.

Each chapter runs in its own worker process (``python -m reprobook._execute``) with one torch thread, the
offline guard, and a wall-time limit; the worker's kernel writes ``results.json`` through
:meth:`reprobook.results.ChapterRun.finish`. A run is written to a temporary folder and renamed into
``_build/runs/<profile>/<chapter>/`` only when it succeeded, so nothing half-written is ever left there.

The cache key covers everything that can change a chapter's output: its source, the ``src/reprobook``
package, the lock file, the parameters, and the chapter's committed results (which the chapter displays).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from . import offline
from .chapters import Chapter
from .results import RESULTS_ENV, RESULTS_FILE, REPO_ROOT, recorded_path, write_json_atomic

BUILD = REPO_ROOT / "_build"
LOCK_FILE = REPO_ROOT / "requirements" / "lock.txt"
PACKAGE_DIR = Path(__file__).resolve().parent
NOTEBOOK_FILE = "notebook.ipynb"
DEFAULT_TIMEOUT_S = {"smoke": 300, "full": 3600}


def run_dir(chapter_id: str, profile: str, build: Path = BUILD) -> Path:
    return build / "runs" / profile / chapter_id


def _package_files() -> list[Path]:
    return sorted(p for p in PACKAGE_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix != ".pyc")


def cache_key(chapter: Chapter, profile: str, params: dict[str, Any]) -> str:
    """SHA-256 over the chapter source, the package, the lock file, the parameters and recorded results."""
    h = hashlib.sha256()

    def feed(label: str, data: bytes) -> None:
        h.update(label.encode() + b"\0" + len(data).to_bytes(8, "little") + data)

    feed("chapter", chapter.path.read_bytes())
    for path in _package_files():
        feed("src:" + str(path.relative_to(PACKAGE_DIR)), path.read_bytes())
    feed("lock", LOCK_FILE.read_bytes() if LOCK_FILE.exists() else b"")
    feed("params", json.dumps({"profile": profile, **params}, sort_keys=True, default=str).encode())
    for prof in ("smoke", "full"):
        rec = recorded_path(chapter.id, prof)
        feed("recorded:" + prof, rec.read_bytes() if rec.exists() else b"")
    return h.hexdigest()


def load_results(chapter_id: str, profile: str, build: Path = BUILD) -> dict[str, Any] | None:
    path = run_dir(chapter_id, profile, build) / RESULTS_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def is_fresh(chapter: Chapter, profile: str, params: dict[str, Any], build: Path = BUILD) -> bool:
    results = load_results(chapter.id, profile, build)
    return (results is not None and (run_dir(chapter.id, profile, build) / NOTEBOOK_FILE).exists()
            and results.get("run", {}).get("cache_key") == cache_key(chapter, profile, params))


def kernel_env(results_dir: Path) -> dict[str, str]:
    """The environment of a chapter's kernel: one thread, offline, no progress bars, results folder."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = "1"
    env[offline.ENV] = "1"
    env["REPROBOOK_PROGRESS"] = "0"
    env["PYTHONHASHSEED"] = "0"
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env[RESULTS_ENV] = str(results_dir)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(offline.SITE_DIR), env.get("PYTHONPATH")) if p)
    return env


@dataclass
class Outcome:
    chapter: str
    status: str  # "ok", "cached", "failed", "timeout", "error"
    wall_s: float = 0.0
    message: str = ""
    results: dict[str, Any] | None = field(default=None, repr=False)


@dataclass
class _Job:
    chapter: Chapter
    params: dict[str, Any]
    key: str
    tmp: Path
    proc: subprocess.Popen
    started: float
    log: Path


def _start(chapter: Chapter, profile: str, params: dict[str, Any], build: Path) -> _Job:
    key = cache_key(chapter, profile, params)
    tmp = build / "runs" / profile / f".tmp-{chapter.id}-{os.getpid()}-{time.monotonic_ns()}"
    tmp.mkdir(parents=True)
    source_hash = hashlib.sha256(chapter.path.read_bytes()).hexdigest()[:16]
    spec = {"source": str(chapter.path), "notebook": str(tmp / NOTEBOOK_FILE),
            "converted": str(build / "converted" / f"{chapter.id}-{source_hash}.ipynb"),
            "parameters": {"profile": profile, **params}, "cwd": str(tmp)}
    (tmp / "job.json").write_text(json.dumps(spec))
    log = tmp / "worker.log"
    with open(log, "w") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "reprobook._execute", str(tmp / "job.json")],
                                env=kernel_env(tmp), stdout=log_file, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    return _Job(chapter, params, key, tmp, proc, time.perf_counter(), log)


def _kill(job: _Job) -> None:
    """Stop the worker and its kernel (same process group)."""
    try:
        os.killpg(job.proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    job.proc.wait()


def _finish(job: _Job, profile: str, build: Path, timed_out: bool) -> Outcome:
    wall = time.perf_counter() - job.started
    cid = job.chapter.id
    failed_dir = build / "failed" / profile / cid
    if timed_out or job.proc.returncode != 0 or not (job.tmp / RESULTS_FILE).exists():
        if timed_out:
            status, message = "timeout", f"stopped after {wall:.0f} s (the limit); raise it with --timeout"
        else:
            status, message = _failure(job)
        shutil.rmtree(failed_dir, ignore_errors=True)
        failed_dir.parent.mkdir(parents=True, exist_ok=True)
        os.replace(job.tmp, failed_dir)  # kept for inspection, outside the results tree
        if status == "failed" and (failed_dir / NOTEBOOK_FILE).exists():
            message += f" (executed notebook: {failed_dir / NOTEBOOK_FILE})"
        return Outcome(cid, status, wall, message)
    results = json.loads((job.tmp / RESULTS_FILE).read_text())
    results["run"] = {
        "cache_key": job.key,
        "wall_s": round(wall, 2),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "profile": profile,
        "parameters": job.params,
    }
    write_json_atomic(job.tmp / RESULTS_FILE, results)
    for name in ("job.json", "worker.log"):
        (job.tmp / name).unlink(missing_ok=True)
    final = run_dir(cid, profile, build)
    old = final.with_name(f".old-{cid}-{os.getpid()}")
    if final.exists():
        os.replace(final, old)
    os.replace(job.tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(failed_dir, ignore_errors=True)
    return Outcome(cid, "ok", wall, "", results)


def _failure(job: _Job) -> tuple[str, str]:
    """Status and one-line message from the worker's report (or the last line of its log)."""
    report = job.tmp / "failure.json"
    if report.exists():
        info = json.loads(report.read_text())
        if info.get("ename") in ("ParameterError", "NetworkAccessError"):
            return "error", f"{info['ename']}: {info['evalue']}"
        where = f"cell {info['cell']}: " if info.get("cell") is not None else ""
        return "failed", f"{where}{info.get('ename')}: {info.get('evalue')}"
    if (job.tmp / NOTEBOOK_FILE).exists() and job.proc.returncode == 0:
        return "failed", "the notebook ran but wrote no results.json: does it end with run.finish(ledger)?"
    lines = [ln for ln in job.log.read_text(errors="replace").splitlines() if ln.strip()]
    return "failed", (lines[-1] if lines else f"worker exited with code {job.proc.returncode}")


def run_chapters(chapters: list[Chapter], profile: str, params: dict[str, dict[str, Any]] | None = None,
                 *, jobs: int = 1, timeout_s: float | None = None, force: bool = False,
                 build: Path = BUILD, report: Callable[[str], None] = print) -> list[Outcome]:
    """Run ``chapters`` in ``profile`` with per-chapter ``params``, ``jobs`` at a time; fresh ones are skipped.

    Returns one :class:`Outcome` per chapter, in the given order.
    """
    params = params or {}
    timeout_s = timeout_s or DEFAULT_TIMEOUT_S.get(profile, 3600)
    outcomes: dict[str, Outcome] = {}
    queue = []
    for ch in chapters:
        p = params.get(ch.id, {})
        if not force and is_fresh(ch, profile, p, build):
            res = load_results(ch.id, profile, build)
            outcomes[ch.id] = Outcome(ch.id, "cached", res.get("run", {}).get("wall_s", 0.0), "", res)
            report(f"  cached   {ch.id} (unchanged since its last run)")
        else:
            queue.append((ch, p))
    total, done = len(queue), 0
    running: list[_Job] = []
    try:
        while queue or running:
            while queue and len(running) < max(1, jobs):
                ch, p = queue.pop(0)
                running.append(_start(ch, profile, p, build))
                report(f"  start    {ch.id} [{profile}]")
            time.sleep(0.05)
            for job in list(running):
                elapsed = time.perf_counter() - job.started
                timed_out = job.proc.poll() is None and elapsed > timeout_s
                if timed_out:
                    _kill(job)
                if job.proc.poll() is None:
                    continue
                running.remove(job)
                out = _finish(job, profile, build, timed_out)
                outcomes[out.chapter] = out
                done += 1
                verdicts = ""
                if out.results:
                    v = out.results.get("verdicts", {})
                    verdicts = ", ".join(f"{n} {k}" for k, n in v.items() if n)
                line = f"  {out.status:<8} {out.chapter} in {out.wall_s:.1f} s [{done}/{total}]"
                report(line + (f": {verdicts}" if verdicts else "") + (f": {out.message}" if out.message else ""))
    except KeyboardInterrupt:
        for job in running:
            _kill(job)
            shutil.rmtree(job.tmp, ignore_errors=True)
        raise
    return [outcomes[ch.id] for ch in chapters]
