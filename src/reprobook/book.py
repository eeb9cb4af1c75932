"""Build the book: run stale chapters (smoke), stage executed notebooks, ``jupyter-book build`` with -W.

The build happens in ``_build/staging``, a fresh copy of the book's sources in which every chapter's
Jupytext file is replaced by its executed notebook from this checkout's current smoke run. Execution is off
in Jupyter Book; warnings are errors; everything is rebuilt (``--all``). A chapter whose run fails, or an
executed notebook with an error output, fails the build: no stale page can stand in for it.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from .chapters import discover
from .dashboard import dashboard_markdown
from .pipeline import BUILD, NOTEBOOK_FILE, run_chapters, run_dir
from .results import REPO_ROOT

BOOK_SOURCES = ("_config.yml", "_toc.yml", "book")


def toc_files(toc_path: Path = REPO_ROOT / "_toc.yml") -> list[str]:
    """Every ``file:`` entry of the table of contents, in order."""
    toc = yaml.safe_load(toc_path.read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return files


def check_toc() -> list[str]:
    """Problems with the TOC: chapters missing from it, or entries with no chapter behind them."""
    listed = [f for f in toc_files() if f.startswith("notebooks/")]
    have = {ch.rel for ch in discover().values()}
    problems = [f"chapter notebook {rel}.py is not in _toc.yml" for rel in sorted(have - set(listed))]
    problems += [f"_toc.yml lists {rel} but no such chapter notebook exists" for rel in listed if rel not in have]
    return problems


def error_outputs(notebook: Path) -> list[str]:
    nb = json.loads(notebook.read_text())
    return [f"{o.get('ename')}: {o.get('evalue')}" for cell in nb["cells"] if cell["cell_type"] == "code"
            for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def stage(staging: Path = BUILD / "staging", build: Path = BUILD) -> list[str]:
    """Fill ``staging`` with the book sources and executed notebooks; returns the problems found."""
    problems = check_toc()
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in BOOK_SOURCES:
        src = REPO_ROOT / name
        if src.is_dir():
            shutil.copytree(src, staging / name, ignore=shutil.ignore_patterns("dashboard.md", "__pycache__"))
        else:
            shutil.copy2(src, staging / name)
    (staging / "book" / "dashboard.md").write_text(dashboard_markdown(build))
    for ch in discover().values():
        executed = run_dir(ch.id, "smoke", build) / NOTEBOOK_FILE
        if not executed.exists():
            problems.append(f"{ch.id}: no executed smoke notebook")
            continue
        problems += [f"{ch.id}: error output in the executed notebook: {e}" for e in error_outputs(executed)]
        target = staging / (ch.rel + ".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(executed, target)
    return problems


def jupyter_book_command(staging: Path) -> list[str]:
    exe = Path(sys.executable).with_name("jupyter-book")
    return [str(exe), "build", str(staging), "--all", "--warningiserror", "--keep-going",
            "--path-output", str(BUILD.parent)]


def build_book(jobs: int = 1, timeout_s: float | None = None, force: bool = False) -> int:
    chapters = list(discover().values())
    print(f"book: {len(chapters)} chapter(s); running stale ones in the smoke profile")
    outcomes = run_chapters(chapters, "smoke", jobs=jobs, timeout_s=timeout_s, force=force)
    failed = [o for o in outcomes if o.status not in ("ok", "cached")]
    for o in failed:
        print(f"error: {o.chapter}: {o.message}", file=sys.stderr)
    if failed:
        print("error: the book is not built while a chapter fails", file=sys.stderr)
        return 1
    problems = stage()
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if problems:
        return 1
    started = time.perf_counter()
    print("book: jupyter-book build (execution off, warnings as errors, all pages)")
    proc = subprocess.run(jupyter_book_command(BUILD / "staging"), capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        print(tail, file=sys.stderr)
        print("error: jupyter-book build failed (see above)", file=sys.stderr)
        return 1
    print(f"book: built in {time.perf_counter() - started:.1f} s -> {BUILD / 'html' / 'index.html'}")
    return 0
