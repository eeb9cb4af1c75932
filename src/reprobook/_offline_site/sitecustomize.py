# Put on PYTHONPATH by the runner so that a chapter's kernel is offline before any chapter code runs.
import os

if os.environ.get("REPROBOOK_OFFLINE"):
    from reprobook import offline

    offline.install()
