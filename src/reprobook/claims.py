"""The claims ledger: a paper's claims, our measurements, and verdicts computed by stated rules.

A chapter declares each claim with the paper's number(s) (as text, with the table or figure), the numbers
measured in this run, and a rule. The rule is written before the run and decides the verdict from the
measured numbers alone; nobody types a verdict. ::

    ledger = Ledger()
    ledger.claim("nde-beats-single",
                 "A noisy deep ensemble is more accurate than one model",
                 paper="0.9147 vs 0.8965 (Table 2, ResNet18, CIFAR-10)",
                 measured={"NDE": [0.91, 0.92, 0.90], "single": [0.88, 0.89, 0.88]},
                 rule=Better("NDE", "single"))
    ledger            # renders the table in a notebook

Measured values are a number (one seed) or a list of numbers (one per seed, paired across names by
position). With several seeds the rules use a noise band of ``k`` standard errors (``k = 2`` by default)
and say ``inconclusive`` when the band covers the decision; with one seed they decide on the number alone,
and ``tie`` (default 0) widens the band by hand for quantities known to be coarse.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping, Sequence

import numpy as np


class Verdict(str, Enum):
    REPRODUCED = "reproduced"
    PARTLY = "partly"
    NOT_REPRODUCED = "not reproduced"
    INCONCLUSIVE = "inconclusive"
    NOT_TESTABLE = "not testable here"


VERDICTS = tuple(v.value for v in Verdict)


class ClaimError(ValueError):
    """A claim is declared wrongly (a rule names a measurement that is not there, a duplicate id, ...)."""


def _as_array(name: str, value: Any) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.ndim != 1 or arr.size == 0:
        raise ClaimError(f"measured value {name!r} must be a number or a non-empty list of numbers, got {value!r}")
    return arr


def _band(diffs: np.ndarray, k: float) -> float:
    """Half-width of the noise band: k standard errors of the mean; 0 with a single value."""
    if diffs.size < 2:
        return 0.0
    return float(k * diffs.std(ddof=1) / math.sqrt(diffs.size))


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    if x == 0 or 1e-3 <= abs(x) < 1e4:
        return f"{x:.4g}"
    return f"{x:.3e}"


def summarise(value: Any) -> str:
    """``0.912`` for one value, ``0.912 ± 0.004 (n=3)`` (mean ± sample std) for several."""
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.size == 1:
        return _fmt(float(arr[0]))
    return f"{_fmt(float(arr.mean()))} ± {_fmt(float(arr.std(ddof=1)))} (n={arr.size})"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    detail: str  # the numbers the rule looked at, so a reader can check the verdict by hand


class Rule:
    """A rule names the measurements it reads, describes itself in words and decides a verdict."""

    def names(self) -> tuple[str, ...]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def decide(self, measured: Mapping[str, np.ndarray]) -> Decision:
        raise NotImplementedError


def _paired(measured, a: str, b: str) -> np.ndarray:
    x, y = measured[a], measured[b]
    if x.size != y.size:
        raise ClaimError(f"{a!r} has {x.size} value(s) and {b!r} has {y.size}; paired rules need one per seed each")
    return x - y


@dataclass(frozen=True)
class Better(Rule):
    """``ours`` beats ``than`` by more than ``margin`` (higher is better unless ``higher_is_better=False``)."""

    ours: str
    than: str
    margin: float = 0.0
    higher_is_better: bool = True
    k: float = 2.0
    tie: float = 0.0

    def names(self):
        return (self.ours, self.than)

    def describe(self):
        op = ">" if self.higher_is_better else "<"
        sign = "+" if self.higher_is_better else "-"
        m = f" {sign} {_fmt(self.margin)}" if self.margin else ""
        return (f"{self.ours} {op} {self.than}{m}, beyond {_fmt(self.k)} s.e. of the paired difference"
                + (f" and a tie band of {_fmt(self.tie)}" if self.tie else ""))

    def decide(self, measured):
        d = _paired(measured, self.ours, self.than)
        if not self.higher_is_better:
            d = -d
        if not np.all(np.isfinite(d)):
            return Decision(Verdict.INCONCLUSIVE, "a measurement is not finite")
        gap = float(d.mean()) - self.margin
        band = max(_band(d, self.k), self.tie)
        detail = f"gain {_fmt(float(d.mean()))} (margin {_fmt(self.margin)}, band ±{_fmt(band)}, n={d.size})"
        if gap > band:
            return Decision(Verdict.REPRODUCED, detail)
        if gap < -band or (band == 0 and gap <= 0):
            return Decision(Verdict.NOT_REPRODUCED, detail)
        return Decision(Verdict.INCONCLUSIVE, detail)


@dataclass(frozen=True)
class Close(Rule):
    """``ours`` is within ``tol`` of ``to`` (absolute difference of paired means)."""

    ours: str
    to: str
    tol: float
    k: float = 2.0

    def names(self):
        return (self.ours, self.to)

    def describe(self):
        return f"|{self.ours} - {self.to}| <= {_fmt(self.tol)}, beyond {_fmt(self.k)} s.e."

    def decide(self, measured):
        d = _paired(measured, self.ours, self.to)
        if not np.all(np.isfinite(d)):
            return Decision(Verdict.INCONCLUSIVE, "a measurement is not finite")
        dist, band = abs(float(d.mean())), _band(d, self.k)
        detail = f"|difference| {_fmt(dist)} (tolerance {_fmt(self.tol)}, band ±{_fmt(band)}, n={d.size})"
        if dist + band <= self.tol:
            return Decision(Verdict.REPRODUCED, detail)
        if dist - band > self.tol:
            return Decision(Verdict.NOT_REPRODUCED, detail)
        return Decision(Verdict.INCONCLUSIVE, detail)


@dataclass(frozen=True)
class AtLeast(Rule):
    """The mean of ``name`` is at least ``threshold`` (or at most, with ``at_most=True``)."""

    name: str
    threshold: float
    at_most: bool = False
    k: float = 2.0

    def names(self):
        return (self.name,)

    def describe(self):
        return f"mean {self.name} {'<=' if self.at_most else '>='} {_fmt(self.threshold)}, beyond {_fmt(self.k)} s.e."

    def decide(self, measured):
        x = measured[self.name]
        if not np.all(np.isfinite(x)):
            return Decision(Verdict.INCONCLUSIVE, "a measurement is not finite")
        gap = float(x.mean()) - self.threshold
        if self.at_most:
            gap = -gap
        band = _band(x, self.k)
        detail = f"mean {_fmt(float(x.mean()))} (threshold {_fmt(self.threshold)}, band ±{_fmt(band)}, n={x.size})"
        if gap >= band:
            return Decision(Verdict.REPRODUCED, detail)
        if gap < -band:
            return Decision(Verdict.NOT_REPRODUCED, detail)
        return Decision(Verdict.INCONCLUSIVE, detail)


@dataclass(frozen=True)
class Ordered(Rule):
    """The measurements rank as listed, best first: each neighbour pair is judged by :class:`Better`.

    All pairs reproduced: ``reproduced``; none reproduced and none inconclusive: ``not reproduced``;
    some reproduced: ``partly``; otherwise ``inconclusive``.
    """

    order: tuple[str, ...]
    higher_is_better: bool = True
    k: float = 2.0

    def __post_init__(self):
        if len(self.order) < 2:
            raise ClaimError("Ordered needs at least two names")
        object.__setattr__(self, "order", tuple(self.order))

    def names(self):
        return self.order

    def describe(self):
        op = " > " if self.higher_is_better else " < "
        return f"{op.join(self.order)} (each neighbour pair beyond {_fmt(self.k)} s.e.)"

    def decide(self, measured):
        pairs = [Better(a, b, higher_is_better=self.higher_is_better, k=self.k).decide(measured)
                 for a, b in zip(self.order, self.order[1:])]
        verdicts = [p.verdict for p in pairs]
        held = verdicts.count(Verdict.REPRODUCED)
        detail = f"{held} of {len(pairs)} neighbour pairs hold"
        return Decision(_combine(verdicts), detail)


@dataclass(frozen=True)
class Correlates(Rule):
    """Spearman's rho between ``x`` and ``y`` has the stated ``sign`` and magnitude at least ``min_rho``.

    Sign right but weaker than ``min_rho``: ``partly``; sign wrong or zero: ``not reproduced``.
    """

    x: str
    y: str
    sign: int = 1
    min_rho: float = 0.5

    def names(self):
        return (self.x, self.y)

    def describe(self):
        direction = "increasing" if self.sign > 0 else "decreasing"
        return f"{self.y} is {direction} in {self.x}: Spearman rho {'>=' if self.sign > 0 else '<='} {'' if self.sign > 0 else '-'}{_fmt(self.min_rho)}"

    def decide(self, measured):
        from scipy.stats import spearmanr

        x, y = measured[self.x], measured[self.y]
        if x.size != y.size or x.size < 3:
            raise ClaimError(f"Correlates needs {self.x!r} and {self.y!r} of equal length >= 3")
        rho = float(spearmanr(x, y).statistic)
        detail = f"rho {_fmt(rho)} over {x.size} points"
        if not math.isfinite(rho):
            return Decision(Verdict.INCONCLUSIVE, detail + " (constant input)")
        s = rho * (1 if self.sign > 0 else -1)
        if s >= self.min_rho:
            return Decision(Verdict.REPRODUCED, detail)
        if s > 0:
            return Decision(Verdict.PARTLY, detail)
        return Decision(Verdict.NOT_REPRODUCED, detail)


@dataclass(frozen=True)
class AllOf(Rule):
    """Several rules that together make one claim; combined as in :class:`Ordered`."""

    rules: tuple[Rule, ...]

    def __init__(self, *rules: Rule):
        if not rules:
            raise ClaimError("AllOf needs at least one rule")
        object.__setattr__(self, "rules", tuple(rules))

    def names(self):
        return tuple(dict.fromkeys(n for r in self.rules for n in r.names()))

    def describe(self):
        return "all of: " + "; ".join(f"({r.describe()})" for r in self.rules)

    def decide(self, measured):
        parts = [r.decide(measured) for r in self.rules]
        detail = "; ".join(f"{p.verdict.value}: {p.detail}" for p in parts)
        return Decision(_combine([p.verdict for p in parts]), detail)


@dataclass(frozen=True)
class NotTestable(Rule):
    """The claim cannot be tested with what this chapter has; ``reason`` says why."""

    reason: str

    def names(self):
        return ()

    def describe(self):
        return f"not testable: {self.reason}"

    def decide(self, measured):
        return Decision(Verdict.NOT_TESTABLE, self.reason)


def _combine(verdicts: Sequence[Verdict]) -> Verdict:
    """One verdict from several: all held, some held, none held, or too noisy to say."""
    if all(v == Verdict.REPRODUCED for v in verdicts):
        return Verdict.REPRODUCED
    if any(v in (Verdict.REPRODUCED, Verdict.PARTLY) for v in verdicts):
        return Verdict.PARTLY
    if any(v == Verdict.INCONCLUSIVE for v in verdicts):
        return Verdict.INCONCLUSIVE
    if any(v == Verdict.NOT_REPRODUCED for v in verdicts):
        return Verdict.NOT_REPRODUCED
    return Verdict.NOT_TESTABLE


@dataclass
class Claim:
    id: str
    text: str
    paper: str
    rule: Rule
    measured: dict[str, list[float]]
    verdict: Verdict
    detail: str
    volatile: bool = False  # the verdict rests on timings: reported, not compared by the smoke regression

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "claim": self.text, "paper": self.paper, "rule": self.rule.describe(),
                "measured": self.measured, "ours": self.ours(), "verdict": self.verdict.value,
                "detail": self.detail, "volatile": self.volatile}

    def ours(self) -> str:
        return "; ".join(f"{k} {summarise(v)}" for k, v in self.measured.items()) or "—"


@dataclass
class Ledger:
    """The chapter's claims, in the order declared. Renders as a table in notebooks."""

    claims: list[Claim] = field(default_factory=list)

    def claim(self, id: str, text: str, *, paper: str, rule: Rule,
              measured: Mapping[str, Any] | None = None, volatile: bool = False) -> Claim:
        """Declare a claim and decide its verdict now, from ``measured``, by ``rule``.

        ``volatile=True`` marks a claim whose measurements are timings (wall or CPU seconds): its verdict
        is reported like any other, but the smoke regression does not require it to repeat.
        """
        if any(c.id == id for c in self.claims):
            raise ClaimError(f"duplicate claim id {id!r}")
        if not isinstance(rule, Rule):
            raise ClaimError(f"rule for {id!r} must be a reprobook.claims rule, got {type(rule).__name__}")
        measured = dict(measured or {})
        arrays = {k: _as_array(k, v) for k, v in measured.items()}
        missing = [n for n in rule.names() if n not in arrays]
        if missing:
            raise ClaimError(f"claim {id!r}: the rule reads {missing} but measured has only {sorted(arrays)}")
        decision = rule.decide(arrays)
        claim = Claim(id, text, paper, rule, {k: [float(x) for x in a] for k, a in arrays.items()},
                      decision.verdict, decision.detail, volatile)
        self.claims.append(claim)
        return claim

    def counts(self) -> dict[str, int]:
        counts = {v: 0 for v in VERDICTS}
        for c in self.claims:
            counts[c.verdict.value] += 1
        return counts

    def records(self) -> list[dict[str, Any]]:
        return [c.record() for c in self.claims]

    def to_markdown(self) -> str:
        return records_to_markdown(self.records())

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return records_to_html(self.records())


_COLUMNS = (("claim", "Claim"), ("paper", "Paper"), ("ours", "Ours (this run)"), ("rule", "Rule"),
            ("verdict", "Verdict"))


_TIMING_NOTE = " (decided on timings, which vary from run to run)"


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def records_to_markdown(records: Sequence[Mapping[str, Any]]) -> str:
    head = "| " + " | ".join(t for _, t in _COLUMNS) + " |\n|" + "---|" * len(_COLUMNS) + "\n"
    rows = []
    for r in records:
        cells = [_md_cell(r[k]) for k, _ in _COLUMNS]
        cells[-2] += _TIMING_NOTE if r.get("volatile") else ""
        cells[-1] = f"**{cells[-1]}** ({_md_cell(r['detail'])})"
        rows.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(rows) + "\n"


_VERDICT_COLOURS = {"reproduced": "#d4edda", "partly": "#fff3cd", "not reproduced": "#f8d7da",
                    "inconclusive": "#e2e3e5", "not testable here": "#e7f1ff"}


def records_to_html(records: Sequence[Mapping[str, Any]]) -> str:
    head = "".join(f"<th>{html.escape(t)}</th>" for _, t in _COLUMNS)
    rows = []
    for r in records:
        cells = [f"<td>{html.escape(str(r[k]))}</td>" for k, _ in _COLUMNS[:-2]]
        cells.append(f"<td>{html.escape(r['rule'] + (_TIMING_NOTE if r.get('volatile') else ''))}</td>")
        colour = _VERDICT_COLOURS.get(r["verdict"], "")
        cells.append(f'<td style="background:{colour}"><b>{html.escape(r["verdict"])}</b><br>'
                     f'<small>{html.escape(r["detail"])}</small></td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="claims-ledger"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
