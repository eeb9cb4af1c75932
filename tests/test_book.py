"""The book: its table of contents mirrors notebooks/, and it builds with warnings as errors."""
import json

import pytest

from reprobook import book
from reprobook.chapters import discover
from reprobook.pipeline import BUILD


def test_toc_mirrors_the_chapter_notebooks():
    assert book.check_toc() == []


def test_error_outputs_are_found(tmp_path):
    nb = {"cells": [{"cell_type": "code", "outputs": [{"output_type": "stream", "text": "ok"}]},
                    {"cell_type": "code", "outputs": [{"output_type": "error", "ename": "ValueError",
                                                       "evalue": "bad", "traceback": []}]}]}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    assert book.error_outputs(path) == ["ValueError: bad"]


@pytest.mark.book
def test_book_builds_with_every_chapter_and_the_dashboard(smoke_outcomes):
    assert book.build_book(jobs=2) == 0
    html = BUILD / "html"
    dashboard = (html / "book" / "dashboard.html").read_text()
    assert "Totals per verdict" in dashboard
    for ch in discover().values():
        page = (html / (ch.rel + ".html")).read_text()
        assert "claims-ledger" in page, f"{ch.id}: the claims table is not on the page"
        assert ch.id in dashboard


def test_a_failing_chapter_fails_the_book_before_anything_is_built(monkeypatch, capsys):
    from reprobook.pipeline import Outcome

    monkeypatch.setattr(book, "run_chapters", lambda chapters, *a, **k: [
        Outcome(ch.id, "failed" if i == 0 else "cached", 1.0, "cell 3: ValueError: boom") for i, ch in enumerate(chapters)])
    monkeypatch.setattr(book, "stage", lambda *a, **k: pytest.fail("staged although a chapter failed"))
    assert book.build_book() == 1
    err = capsys.readouterr().err
    assert "cell 3: ValueError: boom" in err and "not built while a chapter fails" in err


def test_an_error_output_in_a_staged_notebook_fails_the_book(monkeypatch, tmp_path):
    monkeypatch.setattr(book, "run_chapters", lambda chapters, *a, **k: [])
    monkeypatch.setattr(book, "stage", lambda *a, **k: ["x: error output in the executed notebook: ValueError: bad"])
    monkeypatch.setattr(book.subprocess, "run", lambda *a, **k: pytest.fail("jupyter-book ran despite a problem"))
    assert book.build_book() == 1
