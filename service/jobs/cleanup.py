"""What a crash leaves under the data dir, removed: temporary files of stopped processes, and folders whose record never came.

Run at start (by the instance that owns an embedded data dir, before anything else uses it; or by each
replica of a shared one) and, on a shared data dir, by the workers every few minutes. Whatever another
live process may still be writing is left alone: its temporary files carry its host and pid, and a
folder without a record is removed only once it is older than ``older_than``.
"""

from __future__ import annotations

import logging
import time

from service.jobs.backend import Backend
from service.jobs.files import clean, remove_tree

log = logging.getLogger("service.jobs")


def sweep(backend: Backend, older_than: float) -> int:
    """Remove what stopped processes left under the data dir (folders without a record: those older than ``older_than`` s)."""
    settings = backend.settings
    removed = clean(settings.data_dir, settings.dataset_body_timeout_seconds)
    removed += backend.datasets.clean_orphans(older_than)
    before = time.time() - older_than
    for folder in backend.files.root.glob("*/*"):
        if folder.name.isalnum() and folder.stat().st_mtime < before and backend.store.get(folder.name, folder.parent.name) is None:
            remove_tree(folder)
            removed += 1
    if removed:
        log.info("removed %d temporary files and folders left by stopped processes under %s", removed, settings.data_dir)
    return removed
