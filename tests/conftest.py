"""Test-wide settings: offline guard, one torch thread, and the shared smoke run of every chapter."""
import os
from pathlib import Path

import pytest

from reprobook import offline

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_configure(config):
    # Any test that tries the network fails loudly (see tests/test_offline.py for the guard's own tests).
    offline.install()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_chapter():
    from reprobook.chapters import Chapter

    return Chapter("tiny", "A tiny chapter", "A", FIXTURES / "tiny_chapter.py")


@pytest.fixture(scope="session")
def smoke_outcomes():
    """Every chapter run once in the smoke profile (cached runs reused), two at a time."""
    from reprobook.chapters import discover
    from reprobook.pipeline import run_chapters

    chapters = list(discover().values())
    return {o.chapter: o for o in run_chapters(chapters, "smoke", jobs=2)}
