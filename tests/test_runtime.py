"""Seeding, device choice, profile resolution and run metadata."""
import numpy as np
import pytest
import torch

from reprobook import runtime
from reprobook.runtime import ParameterError

PROFILES = {"smoke": {"epochs": 2, "lr": 0.1, "name": "a", "flag": False, "sizes": [1, 2]},
            "full": {"epochs": 50, "lr": 0.05, "name": "b", "flag": True, "sizes": [4]}}


def test_seed_everything_repeats_torch_numpy_and_python_draws():
    import random

    def draws(seed):
        rng = runtime.seed_everything(seed)
        return (torch.randn(5).tolist(), np.random.rand(3).tolist(), random.random(), rng.random())

    assert draws(3) == draws(3)
    assert draws(3) != draws(4)
    assert torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_seed_must_be_a_non_negative_integer(bad):
    with pytest.raises(ParameterError, match="seed must be a non-negative integer"):
        runtime.seed_everything(bad)


def test_device_choice():
    assert runtime.choose_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert runtime.choose_device("CPU").type == "cpu"
    with pytest.raises(ParameterError, match="'tpu' is not allowed"):
        runtime.choose_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="CUDA is not available"):
            runtime.choose_device("cuda")


def test_resolve_profile_takes_profile_values_and_typed_overrides():
    assert runtime.resolve_profile("smoke", PROFILES) == PROFILES["smoke"]
    knobs = runtime.resolve_profile("full", PROFILES, {"epochs": 3, "lr": 1, "name": None})
    assert knobs["epochs"] == 3 and knobs["lr"] == 1.0 and isinstance(knobs["lr"], float)
    assert knobs["name"] == "b"


@pytest.mark.parametrize("profile,overrides,message", [
    ("medium", {}, "unknown profile 'medium'; allowed: full, smoke"),
    ("smoke", {"epoch": 3}, "unknown knob 'epoch'"),
    ("smoke", {"epochs": "three"}, "epochs='three' has type str, expected int"),
    ("smoke", {"epochs": 2.5}, "expected int"),
    ("smoke", {"flag": 1}, "flag=1 has type int, expected bool"),
    ("smoke", {"sizes": 3}, "expected list"),
])
def test_resolve_profile_errors_name_the_value_and_what_is_allowed(profile, overrides, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        runtime.resolve_profile(profile, PROFILES, overrides)


def test_data_root_must_exist(tmp_path):
    assert runtime.check_data_root(None) is None
    assert runtime.check_data_root(tmp_path) == tmp_path
    with pytest.raises(ParameterError, match="does not exist"):
        runtime.check_data_root(tmp_path / "missing")


def test_run_metadata_records_versions_device_and_memory():
    meta = runtime.run_metadata(torch.device("cpu"))
    assert meta["packages"]["torch"] == torch.__version__.split("+")[0]
    assert meta["device"].startswith("cpu")
    assert meta["peak_rss_mib"] > 10


def test_start_resolves_a_chapter_run(tmp_path, monkeypatch):
    import reprobook as rb

    monkeypatch.setenv("REPROBOOK_RESULTS_DIR", str(tmp_path))
    run = rb.start("x", profile="full", seed=2, device="cpu", data_root=None,
                   profiles={"smoke": {"n_seeds": 1, "k": 1}, "full": {"n_seeds": 3, "k": 5}}, knobs={"k": None})
    assert run.seeds == [2, 3, 4] and run.cfg.k == 5
    run.log(acc=np.array([0.5, 0.25]), n=np.int64(3), bad=float("nan"))
    results = run.finish(rb.Ledger())
    assert results["metrics"] == {"acc": [0.5, 0.25], "n": 3, "bad": None}
    assert (tmp_path / "results.json").exists()
    with pytest.raises(ParameterError, match="must define profiles"):
        rb.start("x", profile="smoke", seed=0, device="cpu", data_root=None, profiles={"smoke": {}})
