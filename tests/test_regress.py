"""Regression of smoke results: which number moved, within the stated tolerance."""
from reprobook.regress import DEFAULT_TOLERANCE, cpu_note, drift, flatten


def results(acc, verdict="reproduced", **extra):
    return {"metrics": {"acc": acc, "per": {"a": [1.0, 2.0]}, **extra},
            "claims": [{"id": "c1", "verdict": verdict}]}


def test_flatten_names_nested_values():
    assert dict(flatten({"a": [1, {"b": 2}], "c": 3})) == {"a[0]": 1, "a[1].b": 2, "c": 3}


def test_identical_and_within_tolerance_pass():
    assert drift(results([0.9, 0.8]), results([0.9, 0.8])) == []
    assert drift(results([0.9]), results([0.9 + 0.5 * DEFAULT_TOLERANCE["rel"] * 0.9])) == []


def test_a_moved_number_is_named():
    problems = drift(results([0.9, 0.8]), results([0.9, 0.7]))
    assert problems == ["metric acc[1] moved: expected 0.8, got 0.7 (|diff| 0.1 > allowed 0.0008)"]


def test_missing_new_and_verdict_changes_are_reported():
    problems = drift(results([0.9]), {"metrics": {"per": {"a": [1.0, 2.0]}, "new": 1},
                                      "claims": [{"id": "c1", "verdict": "inconclusive"}]})
    assert any("acc[0] is missing" in p for p in problems)
    assert any("metric new is new" in p for p in problems)
    assert any("claim c1 verdict changed: expected 'reproduced', got 'inconclusive'" in p for p in problems)


def test_stated_tolerance_widens_named_metrics_only():
    expected = results([0.9], time=10.0)
    expected["tolerance"] = {"metrics": {"time": {"rel": 0.5}}}
    assert drift(expected, results([0.9], time=14.0)) == []
    assert drift(expected, results([0.95], time=14.0)) != []


def test_volatile_claims_are_not_compared():
    expected = results([0.9])
    expected["claims"].append({"id": "speed", "verdict": "reproduced", "volatile": True})
    actual = results([0.9])
    actual["claims"].append({"id": "speed", "verdict": "partly", "volatile": True})
    assert drift(expected, actual) == []


def test_a_comparison_across_cpu_kinds_says_so():
    a = {"meta": {"cpu": "AMD EPYC; torch AVX512; OpenBLAS core Haswell"}}
    b = {"meta": {"cpu": "Intel Xeon; torch AVX2; OpenBLAS core auto"}}
    assert cpu_note(a, a) == ""
    assert "recorded on CPU 'AMD EPYC; torch AVX512" in cpu_note(a, b) and "re-record" in cpu_note(a, b)
    assert "unknown (no fingerprint)" in cpu_note({"meta": {}}, b)


def test_the_cpu_fingerprint_names_the_kernels():
    from reprobook.runtime import cpu_fingerprint

    fp = cpu_fingerprint()
    assert "; torch " in fp and "; OpenBLAS core " in fp

