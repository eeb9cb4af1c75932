"""Worker process of the pipeline: convert one chapter with Jupytext and execute it with Papermill.

Started by :mod:`reprobook.pipeline` with the kernel's environment already set; reads its job from the
JSON file named on the command line. On a failing cell it writes ``failure.json`` (cell, error name and
message) beside the executed notebook so the runner can report one line.
"""
import json
import sys
from pathlib import Path


def main(job_file: str) -> int:
    import jupytext
    import papermill

    job = json.loads(Path(job_file).read_text())
    notebook = jupytext.read(job["source"])
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
