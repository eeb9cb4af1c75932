"""Every chapter in its smoke profile: it runs, within 60 s, repeats exactly, and matches committed results."""
import pytest

from reprobook.chapters import discover
from reprobook.pipeline import run_chapters
from reprobook.regress import cpu_note, drift
from reprobook.results import load_recorded, recorded_path

pytestmark = pytest.mark.notebook
CHAPTERS = sorted(discover())
SMOKE_LIMIT_S = 60  # the chapter contract: kernel start included, one torch thread, 2-core machine


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_smoke_run_succeeds_within_the_time_limit(chapter, smoke_outcomes):
    out = smoke_outcomes[chapter]
    assert out.status in ("ok", "cached"), f"{chapter}: {out.status}: {out.message}"
    assert out.results["run"]["wall_s"] <= SMOKE_LIMIT_S, f"{chapter} took {out.results['run']['wall_s']} s"
    assert out.results["meta"]["device"].startswith("cpu")
    assert sum(out.results["verdicts"].values()) == len(out.results["claims"]) > 0


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_smoke_results_match_the_committed_expected_values(chapter, smoke_outcomes):
    expected = load_recorded(chapter, "smoke")
    assert expected is not None, (f"no expected values at {recorded_path(chapter, 'smoke')}; "
                                  f"run: python -m reprobook run {chapter} && python -m reprobook record {chapter}")
    problems = drift(expected, smoke_outcomes[chapter].results)
    note = cpu_note(expected, smoke_outcomes[chapter].results)
    assert not problems, (f"{chapter} drifted from its committed smoke results:\n" + "\n".join(problems)
                          + (f"\n{note}" if note else ""))


def test_a_chapter_run_twice_gives_identical_numbers(smoke_outcomes, tmp_path):
    """Re-execute the quickest chapter from scratch in a separate build folder and compare every number."""
    chapter = min(CHAPTERS, key=lambda c: smoke_outcomes[c].results["run"]["wall_s"])
    again = run_chapters([discover()[chapter]], "smoke", build=tmp_path, force=True, report=lambda s: None)[0]
    assert again.status == "ok", again.message
    assert again.results["metrics"] == smoke_outcomes[chapter].results["metrics"]
    assert again.results["claims"] == smoke_outcomes[chapter].results["claims"]
