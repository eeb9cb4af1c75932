"""Regression of smoke results: compare a fresh run with the committed expected values.

Smoke runs are single-threaded with deterministic kernels, so on the same software stack and the same kind
of CPU they repeat to the bit. The default tolerance (relative 1e-3 or absolute 1e-4, whichever is looser)
absorbs small rounding noise while catching any change that moves a result in earnest. It cannot absorb a
change of CPU kind: a training run amplifies the rounding differences of other floating-point kernels
(AVX2 against AVX-512, another OpenBLAS core type) into different models, so the expected values are
recorded on the machine kind that CI uses, and :func:`cpu_note` says when a comparison crosses kinds. An expected
file may widen it for named metrics, with a reason, in a ``"tolerance"`` section::

    "tolerance": {"metrics": {"n_iterations": {"abs": 2, "why": "..."}}}

Timings are not metrics (``run.log_timing``) and claims declared ``volatile`` (decided on timings) are not
compared, since neither repeats exactly.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

DEFAULT_TOLERANCE = {"rel": 1e-3, "abs": 1e-4}


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``("acc[0]", 0.91)``, ``("per_ratio.0.1", 0.8)`` ... for nested dicts and lists."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from flatten(v, f"{prefix}[{i}]")
    else:
        yield prefix, value


def _tolerance(expected: dict[str, Any], metric: str) -> dict[str, float]:
    section = expected.get("tolerance", {})
    tol = dict(DEFAULT_TOLERANCE)
    tol.update({k: v for k, v in section.get("default", {}).items() if k in ("rel", "abs")})
    top = metric.split(".")[0].split("[")[0]
    tol.update({k: v for k, v in section.get("metrics", {}).get(top, {}).items() if k in ("rel", "abs")})
    return tol


def drift(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Every metric or verdict that moved beyond tolerance, one line each; empty when none did."""
    problems = []
    want = dict(flatten(expected.get("metrics", {})))
    got = dict(flatten(actual.get("metrics", {})))
    for name in want.keys() - got.keys():
        problems.append(f"metric {name} is missing from the new run (expected {want[name]!r})")
    for name in got.keys() - want.keys():
        problems.append(f"metric {name} is new (value {got[name]!r}); record the run if it is meant")
    for name in sorted(want.keys() & got.keys()):
        w, g = want[name], got[name]
        if isinstance(w, (int, float)) and isinstance(g, (int, float)) and not isinstance(w, bool):
            tol = _tolerance(expected, name)
            allowed = max(tol["abs"], tol["rel"] * abs(w))
            if not (math.isfinite(w) and math.isfinite(g)) or abs(g - w) > allowed:
                problems.append(f"metric {name} moved: expected {w!r}, got {g!r} "
                                f"(|diff| {abs(g - w):.3g} > allowed {allowed:.3g})")
        elif w != g:
            problems.append(f"metric {name} changed: expected {w!r}, got {g!r}")
    volatile = {c["id"] for c in [*expected.get("claims", []), *actual.get("claims", [])] if c.get("volatile")}
    want_v = {c["id"]: c["verdict"] for c in expected.get("claims", []) if c["id"] not in volatile}
    got_v = {c["id"]: c["verdict"] for c in actual.get("claims", []) if c["id"] not in volatile}
    for cid in sorted(want_v.keys() | got_v.keys()):
        if want_v.get(cid) != got_v.get(cid):
            problems.append(f"claim {cid} verdict changed: expected {want_v.get(cid)!r}, got {got_v.get(cid)!r}")
    return problems


def cpu_note(expected: dict[str, Any], actual: dict[str, Any]) -> str:
    """A hint for a drift report when the expected values come from another kind of CPU, else ''."""
    want = expected.get("meta", {}).get("cpu")
    got = actual.get("meta", {}).get("cpu")
    if want == got:
        return ""
    return (f"note: the expected values were recorded on CPU {want or 'unknown (no fingerprint)'!r}, this run "
            f"is on {got!r}; training results differ between CPU kinds, so if nothing in the chapter or the "
            "package changed, re-record on the machine kind CI uses (python -m reprobook record CHAPTER)")

