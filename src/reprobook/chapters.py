"""The chapter catalogue: ids, notebook files, and each notebook's declared parameters.

``chapters.tsv`` lists the book's 66 planned chapters with the glob of their notebook. A chapter exists once
a file matches its glob. Its parameters are read from the cell tagged ``parameters`` without running it.
"""
from __future__ import annotations

import ast
import csv
import fnmatch
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .runtime import ParameterError

REPO_ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = Path(__file__).with_name("chapters.tsv")


@dataclass(frozen=True)
class Entry:
    id: str
    rating: str
    pattern: str
    title: str


@dataclass(frozen=True)
class Chapter:
    id: str
    title: str
    rating: str
    path: Path  # the Jupytext source, notebooks/<source>/<name>.py

    @property
    def rel(self) -> str:
        """The path relative to the repository, without suffix: how ``_toc.yml`` names the chapter."""
        return str(self.path.relative_to(REPO_ROOT).with_suffix(""))


@cache
def catalogue() -> tuple[Entry, ...]:
    lines = [ln for ln in CATALOGUE.read_text().splitlines() if ln and not ln.startswith("#")]
    return tuple(Entry(r["id"], r["rating"], r["notebook"], r["title"])
                 for r in csv.DictReader(lines, delimiter="\t"))


def discover(root: Path = REPO_ROOT) -> dict[str, Chapter]:
    """Chapters that have a notebook, in catalogue order."""
    files = sorted(str(p.relative_to(root)) for p in (root / "notebooks").glob("*/*.py")
                   if not p.name.startswith("_"))
    found = {}
    for entry in catalogue():
        matches = [f for f in files if fnmatch.fnmatch(f, entry.pattern)]
        if len(matches) > 1:
            raise RuntimeError(f"chapter {entry.id} matches several notebooks: {matches}")
        if matches:
            found[entry.id] = Chapter(entry.id, entry.title, entry.rating, root / matches[0])
    return found


def resolve(ids: list[str] | None, root: Path = REPO_ROOT) -> list[Chapter]:
    """The chapters named by ``ids`` (all chapters with a notebook when empty); clear errors otherwise."""
    found = discover(root)
    if not ids:
        return list(found.values())
    known = {e.id for e in catalogue()}
    chapters = []
    for cid in ids:
        if cid in found:
            chapters.append(found[cid])
        elif cid in known:
            raise ParameterError(f"chapter {cid!r} is planned but has no notebook yet; "
                                 f"chapters with notebooks: {', '.join(found) or 'none'}")
        else:
            raise ParameterError(f"unknown chapter {cid!r}; chapters with notebooks: {', '.join(found) or 'none'}"
                                 " (python -m reprobook list shows all)")
    return list(dict.fromkeys(chapters))


# The contract's standard parameters have known types even where a chapter leaves them unannotated:
# ``data_root = None`` must still accept a folder from ``-p data_root PATH``.
STANDARD_ANNOTATIONS = {"profile": "str", "seed": "int", "device": "str", "data_root": "str | None"}


@dataclass(frozen=True)
class Parameter:
    name: str
    default: Any
    annotation: str | None  # e.g. "str | None", from an annotated assignment

    def check(self, value: Any) -> Any:
        """``value`` converted to this parameter's kind, or a :class:`ParameterError` naming both."""
        allowed = self.allowed_types()
        if value is None:
            if type(None) in allowed:
                return None
            raise ParameterError(f"parameter {self.name!r} cannot be None; expected {self.kind()}")
        if isinstance(value, bool) and bool not in allowed:
            raise ParameterError(f"parameter {self.name!r}={value!r} is a bool; expected {self.kind()}")
        if isinstance(value, int) and not isinstance(value, bool) and float in allowed and int not in allowed:
            return float(value)
        if isinstance(value, tuple(allowed)):
            return value
        raise ParameterError(f"parameter {self.name!r}={value!r} has type {type(value).__name__}; "
                             f"expected {self.kind()} (default {self.default!r})")

    def allowed_types(self) -> set[type]:
        names = {"str": str, "int": int, "float": float, "bool": bool, "None": type(None), "list": list,
                 "dict": dict}
        annotation = self.annotation or STANDARD_ANNOTATIONS.get(self.name)
        if annotation:
            parts = [p.strip().split("[")[0] for p in annotation.replace("Optional[", "None | ").split("|")]
            types = {names[p.rstrip("]")] for p in parts if p.rstrip("]") in names}
            if types:
                return types
        return {type(self.default)}

    def kind(self) -> str:
        return " or ".join(sorted(t.__name__ if t is not type(None) else "None" for t in self.allowed_types()))


_CELL = re.compile(r"^# %%(.*)$", re.M)


def _parameters_source(path: Path) -> str:
    """The code of the cell tagged ``parameters`` in a Jupytext percent-format file.

    Read with a regular expression rather than through Jupytext, whose import alone costs over a second:
    the command line checks ``-p`` values before anything runs and should answer at once.
    """
    text = path.read_text()
    marks = list(_CELL.finditer(text))
    for i, mark in enumerate(marks):
        header = mark.group(1)
        if "[markdown]" not in header and re.search(r"""tags\s*=\s*\[[^\]]*["']parameters["']""", header):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
            return text[mark.end():end]
    raise ParameterError(f"{path} has no cell tagged 'parameters'")


def parameters(chapter: Chapter) -> dict[str, Parameter]:
    """The chapter's declared parameters: ``name = literal`` or ``name: type = literal`` lines."""
    tree = ast.parse(_parameters_source(chapter.path))
    params = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value, ann = node.targets[0].id, node.value, None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value, ann = node.target.id, node.value, ast.unparse(node.annotation)
        else:
            continue
        params[name] = Parameter(name, ast.literal_eval(value), ann)
    return params


def parse_value(text: str) -> Any:
    """A command-line value: a Python literal (``3``, ``0.5``, ``None``, ``[1, 2]``, ``True``) or a string."""
    lowered = {"none": None, "null": None, "true": True, "false": False}
    if text.strip().lower() in lowered:
        return lowered[text.strip().lower()]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def check_overrides(chapter: Chapter, overrides: dict[str, Any]) -> dict[str, Any]:
    """Validate ``-p NAME VALUE`` pairs against the chapter's parameters cell, before anything runs."""
    declared = parameters(chapter)
    checked = {}
    for name, value in overrides.items():
        if name not in declared:
            raise ParameterError(f"chapter {chapter.id!r} has no parameter {name!r}; "
                                 f"its parameters: {', '.join(declared)}")
        checked[name] = declared[name].check(value)
    return checked
