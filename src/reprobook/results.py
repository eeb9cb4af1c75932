"""A chapter's run: its resolved parameters, its metrics, its ledger, and the results file it leaves.

A chapter notebook starts with :func:`start` (in the cell after ``parameters``) and ends with
:meth:`ChapterRun.finish`. When the runner executes the notebook it sets ``REPROBOOK_RESULTS_DIR``; run by
hand (in Jupyter) the results go to ``_build/interactive/<chapter>/``.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Mapping

from . import offline, runtime
from .claims import Ledger

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS_ENV = "REPROBOOK_RESULTS_DIR"
RESULTS_FILE = "results.json"
SCHEMA_VERSION = 1


def _jsonable(value: Any) -> Any:
    """Plain JSON types from NumPy/torch scalars and arrays; non-finite floats become None."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy and torch
        return _jsonable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot record a value of type {type(value).__name__} in results: {value!r}")


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary file and rename it, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)


@dataclass
class ChapterRun:
    chapter: str
    profile: str
    seed: int
    device: Any  # torch.device
    data_root: Path | None
    cfg: SimpleNamespace
    params: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    @property
    def seeds(self) -> list[int]:
        """The seeds of this run: ``seed, seed+1, ...`` for the profile's ``n_seeds`` (1 if it has none)."""
        return [self.seed + i for i in range(int(getattr(self.cfg, "n_seeds", 1)))]

    def log(self, **metrics: Any) -> None:
        """Record metrics (numbers or lists of numbers, e.g. one per seed) for the results file."""
        for name, value in metrics.items():
            self.metrics[name] = _jsonable(value)

    def log_timing(self, **seconds: Any) -> None:
        """Record timings (wall or CPU seconds, speed ratios). They are reported, but kept apart from the
        metrics because they never repeat exactly, so the smoke regression does not compare them."""
        for name, value in seconds.items():
            self.timings[name] = _jsonable(value)

    @property
    def out_dir(self) -> Path:
        env = os.environ.get(RESULTS_ENV)
        return Path(env) if env else REPO_ROOT / "_build" / "interactive" / self.chapter

    def figure_path(self, name: str) -> Path:
        """Where to save a figure file next to the results (the notebook shows it inline as well)."""
        path = self.out_dir / "figures" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def finish(self, ledger: Ledger) -> dict[str, Any]:
        """Write the results file: metrics, the ledger's records and verdict counts, run metadata."""
        results = {
            "schema": SCHEMA_VERSION,
            "chapter": self.chapter,
            "profile": self.profile,
            "params": _jsonable(self.params),
            "config": _jsonable(vars(self.cfg)),
            "metrics": self.metrics,
            "timings": self.timings,
            "claims": ledger.records(),
            "verdicts": ledger.counts(),
            "meta": {**runtime.run_metadata(self.device),
                     "kernel_wall_s": round(time.perf_counter() - self.started, 2)},
        }
        write_json_atomic(self.out_dir / RESULTS_FILE, results)
        return results


def start(chapter: str, *, profile: str, seed: int, device: str, data_root: str | None,
          profiles: Mapping[str, Mapping[str, Any]], knobs: Mapping[str, Any] | None = None,
          threads: int = 1) -> ChapterRun:
    """Validate the parameters cell, seed everything, pick the device and resolve the profile's knobs.

    ``profiles`` maps ``"smoke"`` and ``"full"`` to the chapter's knob values; ``knobs`` holds the
    parameters-cell values of those knobs (``None`` = take the profile's). A bad value raises
    :class:`~reprobook.runtime.ParameterError` with a message naming it and what is allowed.
    """
    if os.environ.get(offline.ENV):
        offline.install()
    missing = [p for p in runtime.PROFILES if p not in profiles]
    if missing:
        raise runtime.ParameterError(f"chapter {chapter!r} must define profiles {runtime.PROFILES}; missing {missing}")
    cfg = runtime.resolve_profile(profile, profiles, knobs)
    root = runtime.check_data_root(data_root)
    runtime.set_threads(threads)
    runtime.seed_everything(seed)
    dev = runtime.choose_device(device)
    params = {"profile": profile, "seed": seed, "device": device, "data_root": data_root, **dict(knobs or {})}
    return ChapterRun(chapter, profile, seed, dev, root, SimpleNamespace(**cfg), params)


def recorded_path(chapter: str, profile: str) -> Path:
    """Committed results: ``data/expected/smoke/<id>.json`` (regression) or ``data/results/full/<id>.json``."""
    if profile == "smoke":
        return REPO_ROOT / "data" / "expected" / "smoke" / f"{chapter}.json"
    return REPO_ROOT / "data" / "results" / profile / f"{chapter}.json"


def load_recorded(chapter: str, profile: str) -> dict[str, Any] | None:
    path = recorded_path(chapter, profile)
    return json.loads(path.read_text()) if path.exists() else None


def compare_with_recorded(run: ChapterRun, names: list[str] | None = None):
    """A table of this run's metrics beside the committed smoke and full results, for the chapter to show.

    Each column header carries the recorded run's provenance (device, commit), so a reader knows where
    a number came from. Metrics missing from a run show as a dash.
    """
    import pandas as pd

    from .claims import summarise

    columns = {f"this run ({run.profile})": run.metrics}
    for profile in ("smoke", "full"):
        rec = load_recorded(run.chapter, profile)
        if rec is None:
            columns[f"recorded {profile}: none yet"] = {}
            continue
        meta = rec.get("meta", {})
        sha = (meta.get("git_sha") or "?")[:10]
        columns[f"recorded {profile} ({meta.get('device', '?')}; {sha})"] = rec.get("metrics", {})
    names = names or list(dict.fromkeys(k for col in columns.values() for k in col))

    def cell(values, name):
        value = values.get(name)
        if value is None:
            return "—"
        try:
            return summarise(value)
        except (TypeError, ValueError):
            return str(value)

    return pd.DataFrame({col: [cell(vals, n) for n in names] for col, vals in columns.items()}, index=names)
