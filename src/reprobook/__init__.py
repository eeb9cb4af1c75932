"""reprobook: the shared package of the reproduction book.

Chapters import what they need from the submodules; the names most chapters use are re-exported here::

    import reprobook as rb
    run = rb.start("icpr2024-16", profile=profile, seed=seed, device=device, data_root=data_root,
                   profiles=PROFILES, knobs=dict(label_ratio=label_ratio))
    ledger = rb.Ledger()
    ...
    run.finish(ledger)
"""
from .claims import AllOf, AtLeast, Better, Close, Correlates, Ledger, NotTestable, Ordered, Verdict
from .results import ChapterRun, start
from .runtime import ParameterError

__all__ = ["AllOf", "AtLeast", "Better", "ChapterRun", "Close", "Correlates", "Ledger", "NotTestable",
           "Ordered", "ParameterError", "Verdict", "start"]
__version__ = "0.1.0"
