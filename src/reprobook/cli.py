"""Command line: ``python -m reprobook {run,book,status,list,record} ...``.

Imports of the heavy machinery (papermill, jupyter-book, torch) happen inside the commands, so that
``--help`` and errors about arguments come back at once.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import chapters as chapters_mod
from .runtime import PROFILES, ParameterError, check_data_root

EXAMPLES = """examples:
  python -m reprobook list
  python -m reprobook run icpr2024-16 --profile smoke
  python -m reprobook run iconip2024-21 --profile full -p data_root ~/data/cifar10 --jobs 1
  python -m reprobook run --jobs 2            # every chapter, smoke profile, stale ones only
  python -m reprobook book                    # run what is stale, then build _build/html
  python -m reprobook status
  python -m reprobook record icpr2024-16      # commit this run's smoke results as expected values
"""


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line naming the problem (argparse's message says what is allowed)."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m reprobook", description=(
        "Run the book's chapters (Jupytext -> Papermill), build the book, and report status."),
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def add_run_options(p, profile=True):
        if profile:
            p.add_argument("--profile", default="smoke", choices=PROFILES,
                           help="smoke: CI-sized, CPU, under 60 s; full: the paper's protocol (default: smoke)")
        p.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                       help="chapters run in parallel, one torch thread each (default: 1)")
        p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                       help="wall-time limit per chapter (default: 300 for smoke, 3600 for full)")
        p.add_argument("--force", action="store_true", help="re-run even when the cache says a chapter is fresh")

    run = sub.add_parser("run", help="execute chapters (cached), writing notebooks and results files",
                         description="Execute chapters with Papermill. Chapters whose cache key (source, "
                         "package, lock file, parameters) is unchanged are skipped.")
    run.add_argument("chapters", nargs="*", metavar="CHAPTER", help="chapter ids (default: all with a notebook)")
    run.add_argument("-p", "--param", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="set a parameter of the chapter's parameters cell (repeatable); VALUE is a Python literal or a string")
    add_run_options(run)

    book = sub.add_parser("book", help="run stale chapters (smoke), then build the whole book with warnings as errors")
    add_run_options(book, profile=False)

    status = sub.add_parser("status", help="table of chapters: last run, profile, wall time, verdicts")
    status.add_argument("--profile", choices=PROFILES, default=None, help="only this profile")

    sub.add_parser("list", help="the book's chapters, with and without a notebook")

    record = sub.add_parser("record", help="copy the latest results into data/ (smoke: expected values; full: provenance)")
    record.add_argument("chapters", nargs="*", metavar="CHAPTER")
    record.add_argument("--profile", default="smoke", choices=PROFILES)
    return parser


def _overrides(pairs: list[list[str]]) -> dict:
    values = {}
    for name, text in pairs:
        if name == "profile":
            raise ParameterError("set the profile with --profile, not -p profile")
        if name in values:
            raise ParameterError(f"parameter {name!r} is given twice")
        values[name] = chapters_mod.parse_value(text)
        if name == "data_root" and values[name] is not None:
            check_data_root(str(Path(str(values[name])).expanduser()))
            values[name] = str(Path(str(values[name])).expanduser().resolve())
    return values


def cmd_run(args) -> int:
    from .pipeline import run_chapters

    chapters = chapters_mod.resolve(args.chapters)
    if not chapters:
        print("no chapter has a notebook yet", file=sys.stderr)
        return 1
    overrides = _overrides(args.param)
    params = {ch.id: chapters_mod.check_overrides(ch, overrides) for ch in chapters}
    if args.jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, got {args.jobs}")
    print(f"running {len(chapters)} chapter(s), profile {args.profile}, {args.jobs} at a time")
    outcomes = run_chapters(chapters, args.profile, params, jobs=args.jobs, timeout_s=args.timeout,
                            force=args.force)
    bad = [o for o in outcomes if o.status not in ("ok", "cached")]
    for o in bad:
        print(f"error: {o.chapter}: {o.message}", file=sys.stderr)
    return 1 if bad else 0


def cmd_book(args) -> int:
    from .book import build_book

    return build_book(jobs=args.jobs, timeout_s=args.timeout, force=args.force)


def cmd_status(args) -> int:
    from .dashboard import status_rows

    rows = status_rows(profiles=[args.profile] if args.profile else list(PROFILES))
    header = ("chapter", "profile", "last run", "state", "wall s", "device", "verdicts")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0


def cmd_list(args) -> int:
    found = chapters_mod.discover()
    for entry in chapters_mod.catalogue():
        mark = str(found[entry.id].path.relative_to(chapters_mod.REPO_ROOT)) if entry.id in found else "(no notebook yet)"
        print(f"{entry.id:<15} {entry.rating}  {entry.title[:60]:<60}  {mark}")
    print(f"{len(found)} of {len(chapters_mod.catalogue())} chapters have a notebook")
    return 0


def cmd_record(args) -> int:
    from .pipeline import is_fresh, load_results
    from .results import recorded_path, write_json_atomic

    chapters = chapters_mod.resolve(args.chapters)
    for ch in chapters:
        res = load_results(ch.id, args.profile)
        if res is None:
            raise ParameterError(f"no {args.profile} results for {ch.id}; run it first: "
                                 f"python -m reprobook run {ch.id} --profile {args.profile}")
        if args.profile == "smoke" and not is_fresh(ch, "smoke", res["run"]["parameters"]):
            raise ParameterError(f"the smoke results of {ch.id} are stale; re-run it before recording")
        if args.profile == "smoke" and res["run"]["parameters"]:
            raise ParameterError(f"the smoke results of {ch.id} used -p overrides; record a default run")
        res["run"].pop("cache_key", None)  # depends on the recorded file itself
        previous = recorded_path(ch.id, args.profile)
        if previous.exists() and "tolerance" in json.loads(previous.read_text()):
            res["tolerance"] = json.loads(previous.read_text())["tolerance"]  # stated by hand: keep it
        write_json_atomic(recorded_path(ch.id, args.profile), res)
        print(f"recorded {ch.id} [{args.profile}] -> {recorded_path(ch.id, args.profile).relative_to(chapters_mod.REPO_ROOT)}")
    return 0


COMMANDS = {"run": cmd_run, "book": cmd_book, "status": cmd_status, "list": cmd_list, "record": cmd_record}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
