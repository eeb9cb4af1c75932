"""The run pipeline: cache key, execution, failures, time limit, and the command line's bad-input errors."""
import json
import shutil
import subprocess
import sys

import pytest

from reprobook import pipeline
from reprobook.chapters import Chapter, check_overrides, discover, parameters, parse_value
from reprobook.runtime import ParameterError

from .conftest import FIXTURES, REPO


@pytest.fixture
def chapter_copy(tmp_path):
    path = tmp_path / "tiny_chapter.py"
    shutil.copy(FIXTURES / "tiny_chapter.py", path)
    return Chapter("tiny", "A tiny chapter", "A", path)


def test_cache_key_covers_source_package_lock_and_parameters(chapter_copy, tmp_path, monkeypatch):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text("x = 1\n")
    lock = tmp_path / "lock.txt"
    lock.write_text("torch==1\n")
    monkeypatch.setattr(pipeline, "PACKAGE_DIR", package)
    monkeypatch.setattr(pipeline, "LOCK_FILE", lock)

    base = pipeline.cache_key(chapter_copy, "smoke", {})
    assert pipeline.cache_key(chapter_copy, "smoke", {}) == base  # stable
    assert pipeline.cache_key(chapter_copy, "full", {}) != base
    assert pipeline.cache_key(chapter_copy, "smoke", {"steps": 3}) != base
    (package / "mod.py").write_text("x = 2\n")
    after_src = pipeline.cache_key(chapter_copy, "smoke", {})
    assert after_src != base
    lock.write_text("torch==2\n")
    after_lock = pipeline.cache_key(chapter_copy, "smoke", {})
    assert after_lock != after_src
    chapter_copy.path.write_text(chapter_copy.path.read_text() + "\n# edit\n")
    assert pipeline.cache_key(chapter_copy, "smoke", {}) != after_lock


def test_parameters_are_read_from_the_tagged_cell(tiny_chapter):
    params = parameters(tiny_chapter)
    assert list(params) == ["profile", "seed", "device", "data_root", "steps", "fail", "touch_network"]
    assert params["steps"].annotation == "int | None" and params["steps"].default is None
    assert check_overrides(tiny_chapter, {"steps": 3, "seed": 1}) == {"steps": 3, "seed": 1}
    with pytest.raises(ParameterError, match="has no parameter 'stepz'; its parameters: profile, seed"):
        check_overrides(tiny_chapter, {"stepz": 3})
    with pytest.raises(ParameterError, match="'steps'='many' has type str; expected None or int"):
        check_overrides(tiny_chapter, {"steps": "many"})
    with pytest.raises(ParameterError, match="'fail'=1 has type int; expected bool"):
        check_overrides(tiny_chapter, {"fail": 1})


def test_data_root_takes_a_folder_even_when_the_cell_leaves_it_unannotated(tiny_chapter):
    assert parameters(tiny_chapter)["data_root"].annotation is None  # ``data_root = None`` in the cell
    assert check_overrides(tiny_chapter, {"data_root": "/data/voc"}) == {"data_root": "/data/voc"}
    assert check_overrides(tiny_chapter, {"data_root": None}) == {"data_root": None}
    with pytest.raises(ParameterError, match="'data_root'=3 has type int; expected None or str"):
        check_overrides(tiny_chapter, {"data_root": 3})


@pytest.mark.parametrize("text,value", [("3", 3), ("0.5", 0.5), ("None", None), ("true", True),
                                        ("[1, 2]", [1, 2]), ("resnet18", "resnet18"), ("/data/x", "/data/x")])
def test_command_line_values_are_python_literals_or_strings(text, value):
    assert parse_value(text) == value


def test_run_writes_results_then_caches_and_reruns_on_change(chapter_copy, tmp_path):
    build = tmp_path / "build"
    lines = []
    first = pipeline.run_chapters([chapter_copy], "smoke", build=build, report=lines.append)[0]
    assert first.status == "ok", first.message
    res = first.results
    assert res["chapter"] == "tiny" and res["profile"] == "smoke"
    assert res["metrics"]["threads"] == 1  # one torch thread per chapter
    assert res["verdicts"]["reproduced"] == 1
    assert set(res["meta"]) >= {"device", "packages", "git_sha", "peak_rss_mib", "kernel_wall_s"}
    assert set(res["run"]) == {"cache_key", "wall_s", "finished", "profile", "parameters"}
    assert (build / "runs/smoke/tiny/notebook.ipynb").exists()

    again = pipeline.run_chapters([chapter_copy], "smoke", build=build, report=lines.append)[0]
    assert again.status == "cached" and again.results["metrics"] == res["metrics"]

    changed = pipeline.run_chapters([chapter_copy], "smoke", {"tiny": {"steps": 5}}, build=build,
                                    report=lines.append)[0]
    assert changed.status == "ok" and changed.results["metrics"]["final_loss"] != res["metrics"]["final_loss"]
    assert any("start" in ln for ln in lines) and any("cached" in ln for ln in lines)


@pytest.mark.parametrize("params,status,message", [
    ({"fail": True}, "failed", "cell 4: RuntimeError: asked to fail"),
    ({"touch_network": True}, "failed", "refused: reprobook runs offline"),
    ({"steps": 0}, "error", "ParameterError: steps must be at least 1, got 0"),
])
def test_a_failing_run_reports_one_line_and_leaves_previous_results_untouched(chapter_copy, tmp_path, params,
                                                                             status, message):
    build = tmp_path / "build"
    good = pipeline.run_chapters([chapter_copy], "smoke", build=build, report=lambda s: None)[0]
    before = (build / "runs/smoke/tiny/results.json").read_text()
    bad = pipeline.run_chapters([chapter_copy], "smoke", {"tiny": params}, build=build, report=lambda s: None)[0]
    assert bad.status == status and message in bad.message and "\n" not in bad.message
    assert (build / "runs/smoke/tiny/results.json").read_text() == before
    assert [p.name for p in (build / "runs/smoke").iterdir()] == ["tiny"]  # no temporary folder left
    assert good.status == "ok"


def test_time_limit_stops_a_chapter(chapter_copy, tmp_path):
    out = pipeline.run_chapters([chapter_copy], "smoke", build=tmp_path, timeout_s=1.0, report=lambda s: None)[0]
    assert out.status == "timeout" and "limit" in out.message
    assert not (tmp_path / "runs/smoke/tiny").exists()


def cli(*args):
    proc = subprocess.run([sys.executable, "-m", "reprobook", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def test_help_works():
    code, out, _ = cli("--help")
    assert code == 0 and "run" in out and "book" in out and "status" in out
    code, out, _ = cli("run", "--help")
    assert code == 0 and "--profile" in out and "--jobs" in out and "-p NAME VALUE" in out


def _planned_without_notebook() -> str:
    """A catalogue id that has no notebook yet (the book grows, so no fixed id stays planned)."""
    from reprobook.chapters import catalogue

    found = discover()
    return next(e.id for e in catalogue() if e.id not in found)


PLANNED = _planned_without_notebook()


@pytest.mark.parametrize("args,message", [
    (["run", "no-such-chapter"], "unknown chapter 'no-such-chapter'"),
    (["run", PLANNED], f"chapter '{PLANNED}' is planned but has no notebook yet"),
    (["run", "icpr2024-16", "--profile", "huge"], "invalid choice: 'huge' (choose from 'smoke', 'full')"),
    (["run", "icpr2024-16", "-p", "no_such_knob", "1"], "has no parameter 'no_such_knob'; its parameters:"),
    (["run", "icpr2024-16", "-p", "seed", "zero"], "'seed'='zero' has type str; expected int"),
    (["run", "icpr2024-16", "-p", "data_root", "/no/such/folder"], "does not exist or is not a directory"),
    (["run", "icpr2024-16", "-p", "profile", "full"], "set the profile with --profile"),
    (["run", "icpr2024-16", "--jobs", "0"], "--jobs must be at least 1"),
])
def test_bad_input_gives_one_line_and_non_zero_exit(args, message):
    before = sorted(p.name for p in (REPO / "_build/runs/smoke").glob("*")) if (REPO / "_build/runs/smoke").exists() else []
    code, _, err = cli(*args)
    assert code != 0
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    after = sorted(p.name for p in (REPO / "_build/runs/smoke").glob("*")) if (REPO / "_build/runs/smoke").exists() else []
    assert after == before  # nothing half-written


def test_status_lists_chapters():
    code, out, _ = cli("status")
    assert code == 0 and out.splitlines()[0].split()[:2] == ["chapter", "profile"]
    assert "icpr2024-16" in out and "iconip2024-21" in out


def test_status_shows_committed_full_results_when_none_ran_here(tmp_path):
    """Full runs happen on other machines; their committed results appear in the status table as such."""
    from reprobook.dashboard import status_rows
    from reprobook.results import load_recorded

    rows = {(r[0], r[1]): r for r in status_rows(["smoke", "full"], build=tmp_path)}
    recorded = [cid for cid in discover() if load_recorded(cid, "full") is not None]
    assert recorded, "the repository has committed full results"
    for cid in recorded:
        row = rows[(cid, "full")]
        assert row[3] == "recorded in data/" and row[6] not in ("", "—"), row
    assert all(rows[(cid, "smoke")][2] == "never" for cid in discover())
