"""Worker process of the pipeline: convert one chapter with Jupytext and execute it with Papermill.

Started by :mod:`reprobook.pipeline` with the kernel's environment already set; reads its job from the
JSON file named on the command line. On a failing cell it writes ``failure.json`` (cell, error name and
message) beside the executed notebook so the runner can report one line.
"""
import json
import os
import sys
from pathlib import Path


def converted(source: str, cache: str):
    """The chapter as a notebook. Jupytext's conversion (and its import, over a second) runs once per
    version of the source: the result is kept under a name that carries the source's hash."""
    import nbformat

    cache_path = Path(cache)
    if cache_path.exists():
        return nbformat.read(cache_path, as_version=4)
    import jupytext

    notebook = jupytext.read(source)
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_path.with_name(cache_path.name + f".{os.getpid()}.tmp")
    nbformat.write(notebook, tmp)
    os.replace(tmp, cache_path)
    chapter_id = cache_path.name.rsplit("-", 1)[0]
    for stale in cache_path.parent.glob(f"{chapter_id}-*.ipynb"):  # older versions of this chapter
        if stale != cache_path:
            stale.unlink(missing_ok=True)
    return notebook


def main(job_file: str) -> int:
    import papermill

    job = json.loads(Path(job_file).read_text())
    notebook = converted(job["source"], job["converted"])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    try:
        papermill.execute_notebook(notebook, job["notebook"], parameters=job["parameters"],
                                   kernel_name="python3", cwd=job["cwd"], progress_bar=False,
                                   log_output=False, report_mode=False)
    except papermill.PapermillExecutionError as err:
        failure = {"cell": err.exec_count, "ename": err.ename, "evalue": str(err.evalue).splitlines()[0] if err.evalue else ""}
        (Path(job["cwd"]) / "failure.json").write_text(json.dumps(failure))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
