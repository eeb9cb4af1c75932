"""The ledger decides verdicts by its rules: exact cases with known answers."""
import pytest

from reprobook.claims import (AllOf, AtLeast, Better, ClaimError, Close, Correlates, Ledger, NotTestable,
                              Ordered, Verdict, records_to_markdown)


def verdict(rule, **measured):
    return Ledger().claim("c", "text", paper="p", rule=rule, measured=measured).verdict


def test_better_single_seed_decides_on_the_sign_and_margin():
    assert verdict(Better("a", "b"), a=0.9, b=0.8) == Verdict.REPRODUCED
    assert verdict(Better("a", "b"), a=0.8, b=0.9) == Verdict.NOT_REPRODUCED
    assert verdict(Better("a", "b"), a=0.8, b=0.8) == Verdict.NOT_REPRODUCED  # a tie is no gain
    assert verdict(Better("a", "b", margin=0.2), a=0.9, b=0.8) == Verdict.NOT_REPRODUCED
    assert verdict(Better("a", "b", tie=0.05), a=0.82, b=0.8) == Verdict.INCONCLUSIVE


def test_better_lower_is_better():
    assert verdict(Better("err", "base", higher_is_better=False), err=0.1, base=0.2) == Verdict.REPRODUCED


def test_better_with_seeds_uses_two_standard_errors_of_paired_differences():
    # differences 0.1, 0.1, 0.1: zero spread, clearly positive
    assert verdict(Better("a", "b"), a=[0.9, 0.8, 0.7], b=[0.8, 0.7, 0.6]) == Verdict.REPRODUCED
    # differences 0.3, -0.1, -0.1: mean 1/30, sd 0.2309, s.e. 0.1333, band 0.2667 covers the mean
    assert verdict(Better("a", "b"), a=[0.6, 0.2, 0.2], b=[0.3, 0.3, 0.3]) == Verdict.INCONCLUSIVE
    # differences -0.1, -0.12, -0.11: clearly negative
    assert verdict(Better("a", "b"), a=[0.5, 0.5, 0.5], b=[0.6, 0.62, 0.61]) == Verdict.NOT_REPRODUCED


def test_close_and_at_least():
    assert verdict(Close("a", "b", tol=0.01), a=0.905, b=0.9) == Verdict.REPRODUCED
    assert verdict(Close("a", "b", tol=0.01), a=0.95, b=0.9) == Verdict.NOT_REPRODUCED
    assert verdict(AtLeast("x", 0.5), x=0.5) == Verdict.REPRODUCED
    assert verdict(AtLeast("x", 0.5), x=0.49) == Verdict.NOT_REPRODUCED
    assert verdict(AtLeast("x", 0.5, at_most=True), x=0.4) == Verdict.REPRODUCED
    # mean 0.52, sd 0.1, s.e. 0.0577, band 0.115: the threshold is inside the band
    assert verdict(AtLeast("x", 0.5), x=[0.42, 0.52, 0.62]) == Verdict.INCONCLUSIVE


def test_ordered_counts_neighbour_pairs():
    assert verdict(Ordered(("a", "b", "c")), a=3, b=2, c=1) == Verdict.REPRODUCED
    assert verdict(Ordered(("a", "b", "c")), a=3, b=1, c=2) == Verdict.PARTLY
    assert verdict(Ordered(("a", "b", "c")), a=1, b=2, c=3) == Verdict.NOT_REPRODUCED


def test_correlates_spearman():
    assert verdict(Correlates("x", "y"), x=[1, 2, 3, 4], y=[1, 3, 5, 9]) == Verdict.REPRODUCED
    assert verdict(Correlates("x", "y", sign=-1), x=[1, 2, 3, 4], y=[1, 3, 5, 9]) == Verdict.NOT_REPRODUCED
    # rho = -0.1: the sign is wrong
    assert verdict(Correlates("x", "y"), x=[1, 2, 3, 4, 5], y=[2, 1, 4, 5, 0.5]) == Verdict.NOT_REPRODUCED
    # rho = 0.8: the sign is right, weaker than 0.9
    assert verdict(Correlates("x", "y", min_rho=0.9), x=[1, 2, 3, 4], y=[1, 3, 2, 4]) == Verdict.PARTLY


def test_all_of_and_not_testable():
    rule = AllOf(Better("a", "b"), Better("a", "c"))
    assert verdict(rule, a=1, b=0, c=0) == Verdict.REPRODUCED
    assert verdict(rule, a=1, b=0, c=2) == Verdict.PARTLY
    assert verdict(rule, a=-1, b=0, c=2) == Verdict.NOT_REPRODUCED
    assert verdict(NotTestable("needs ImageNet")) == Verdict.NOT_TESTABLE


def test_non_finite_measurement_is_inconclusive():
    assert verdict(Better("a", "b"), a=float("nan"), b=0.1) == Verdict.INCONCLUSIVE


def test_declaration_errors_name_the_problem():
    ledger = Ledger()
    with pytest.raises(ClaimError, match=r"reads \['b'\]"):
        ledger.claim("c", "t", paper="p", rule=Better("a", "b"), measured={"a": 1})
    ledger.claim("c", "t", paper="p", rule=NotTestable("x"))
    with pytest.raises(ClaimError, match="duplicate claim id"):
        ledger.claim("c", "t", paper="p", rule=NotTestable("x"))
    with pytest.raises(ClaimError, match="one per seed"):
        Ledger().claim("d", "t", paper="p", rule=Better("a", "b"), measured={"a": [1, 2], "b": [1]})
    with pytest.raises(ClaimError, match="must be a reprobook.claims rule"):
        Ledger().claim("e", "t", paper="p", rule="a > b", measured={})


def test_records_counts_and_rendering():
    ledger = Ledger()
    ledger.claim("x", "A | B beats C", paper="0.9 (Table 2)", rule=Better("a", "b"), measured={"a": [0.9, 0.95], "b": [0.8, 0.85]})
    ledger.claim("y", "needs data", paper="-", rule=NotTestable("no data"))
    assert ledger.counts() == {"reproduced": 1, "partly": 0, "not reproduced": 0, "inconclusive": 0,
                               "not testable here": 1}
    rec = ledger.records()[0]
    assert rec["ours"] == "a 0.925 ± 0.03536 (n=2); b 0.825 ± 0.03536 (n=2)"
    md = records_to_markdown(ledger.records())
    assert "A \\| B beats C" in md and "**reproduced**" in md
    assert "<table" in ledger._repr_html_() and "not testable here" in ledger._repr_html_()


def test_timing_claims_say_so_in_the_table():
    ledger = Ledger()
    ledger.claim("t", "faster", paper="2x", rule=Better("a", "b"), measured={"a": 2, "b": 1}, volatile=True)
    ledger.claim("u", "better", paper="+1", rule=Better("a", "b"), measured={"a": 2, "b": 1})
    md = ledger.to_markdown().splitlines()
    assert "decided on timings" in md[2] and "decided on timings" not in md[3]
    assert ledger.records()[0]["volatile"] is True
