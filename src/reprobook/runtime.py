"""Seeding, device choice, threads, profile resolution and run metadata.

Every chapter starts through :func:`reprobook.results.start` which calls the helpers here; they are also
usable on their own in tests and scripts.
"""
from __future__ import annotations

import importlib.metadata
import os
import platform
import random
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping

import numpy as np

PROFILES = ("smoke", "full")

# Packages whose versions are recorded with every run: what a reviewer needs to rerun a number.
RECORDED_PACKAGES = (
    "torch", "torchvision", "numpy", "scipy", "scikit-learn", "pandas", "matplotlib", "torchmetrics",
    "papermill", "jupytext",
)


class ParameterError(ValueError):
    """A chapter parameter or run option has a bad value. The message names the value and what is allowed.

    The runner prints this one line (no traceback) and exits non-zero.
    """


def set_threads(n: int = 1) -> None:
    """Use ``n`` CPU threads in torch (and BLAS where it can still be set).

    Chapters run in parallel, one process each, so one thread per process is the default: it avoids
    oversubscribing the cores and keeps reductions in a fixed order.
    """
    import torch

    torch.set_num_threads(n)
    try:  # only allowed before any inter-op work started; harmless to skip afterwards
        torch.set_num_interop_threads(n)
    except RuntimeError:
        pass


def seed_everything(seed: int, deterministic: bool = True) -> np.random.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) and, by default, ask torch for deterministic kernels.

    Returns a NumPy ``Generator`` seeded with ``seed`` for code that prefers explicit generators.
    ``warn_only`` keeps ops without a deterministic implementation usable (with a warning) rather than
    failing a whole chapter on a GPU.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        # cuBLAS needs this workspace setting for deterministic matrix products on CUDA >= 10.2.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    return np.random.default_rng(seed)


def choose_device(device: str = "auto"):
    """Return a ``torch.device``: ``"auto"`` picks CUDA when present, else CPU.

    An explicit ``"cuda"`` on a machine without CUDA is an error rather than a silent fallback: a user who
    asks for the GPU should learn that they did not get it.
    """
    import torch

    if not isinstance(device, str):
        raise ParameterError(f"device must be a string ('auto', 'cpu', 'cuda', 'cuda:N'), got {device!r}")
    name = device.strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ParameterError(f"device={device!r} but CUDA is not available here; use 'auto' or 'cpu'")
        try:
            dev = torch.device(name)
        except RuntimeError:
            raise ParameterError(f"device={device!r} is not a valid device name; use 'cuda' or 'cuda:N'") from None
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ParameterError(f"device={device!r} but only {torch.cuda.device_count()} CUDA device(s) exist")
        return dev
    raise ParameterError(f"device={device!r} is not allowed; use 'auto', 'cpu', 'cuda' or 'cuda:N'")


def check_data_root(data_root: str | os.PathLike | None) -> Path | None:
    """``None`` (offline stand-in data) or an existing directory."""
    if data_root is None:
        return None
    path = Path(data_root).expanduser()
    if not path.is_dir():
        raise ParameterError(f"data_root={str(data_root)!r} does not exist or is not a directory; "
                             "give the folder that holds the dataset, or None for the offline stand-in")
    return path


def _type_name(value: Any) -> str:
    return "None" if value is None else type(value).__name__


def _conforms(value: Any, default: Any) -> bool:
    """Whether ``value`` may replace ``default`` in a profile (same kind of value)."""
    if default is None or value is None:
        return True  # None means "not set" for optional knobs
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(default))


def resolve_profile(profile: str, profiles: Mapping[str, Mapping[str, Any]],
                    overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The chapter's knobs for ``profile``, with ``overrides`` applied.

    ``profiles`` maps each profile name to its knob values; every profile must define the same knobs.
    An override of ``None`` means "take the profile's value"; any other value replaces it after a type
    check, so ``-p epochs 3`` works while ``-p epochs three`` is refused with a message.
    """
    if profile not in profiles:
        raise ParameterError(f"unknown profile {profile!r}; allowed: {', '.join(sorted(profiles))}")
    knobs = dict(profiles[profile])
    for name, value in (overrides or {}).items():
        if name not in knobs:
            raise ParameterError(f"unknown knob {name!r} for this chapter; knobs: {', '.join(sorted(knobs))}")
        if value is None:
            continue
        if not _conforms(value, knobs[name]):
            raise ParameterError(f"{name}={value!r} has type {_type_name(value)}, "
                                 f"expected {_type_name(knobs[name])} like the profile's {knobs[name]!r}")
        knobs[name] = float(value) if isinstance(knobs[name], float) else value
    return knobs


def git_sha(root: Path | None = None) -> str | None:
    """The checkout's commit, with ``+dirty`` when tracked files differ from it; ``None`` outside git."""
    root = root or Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        if not sha:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def package_versions(names=RECORDED_PACKAGES) -> dict[str, str | None]:
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def device_description(device) -> str:
    import torch

    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"cpu: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch thread(s)"


def cpu_fingerprint() -> str:
    """The CPU model and the floating-point kernels torch and OpenBLAS pick on it.

    Training is chaotic: two CPUs whose kernels round differently (AVX2 against AVX-512, another OpenBLAS
    core type) give different trained models from the same seed, so smoke results are only comparable
    between machines with the same fingerprint.
    """
    import torch

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    coretype = os.environ.get("OPENBLAS_CORETYPE", "auto")
    return f"{model}; torch {torch.backends.cpu.get_cpu_capability()}; OpenBLAS core {coretype}"


def run_metadata(device) -> dict[str, Any]:
    """What a results file records about the machine and software a number came from."""
    import torch

    meta = {
        "device": device_description(device),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_fingerprint(),
        "packages": package_versions(),
        "git_sha": git_sha(),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }
    if device.type == "cuda":
        meta["peak_cuda_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return meta
