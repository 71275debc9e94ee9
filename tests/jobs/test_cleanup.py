"""What a crash leaves under the data dir is removed: a partial upload of a SIGKILLed service is gone after the next start.

In-process: a temporary file of a process that no longer runs goes at once, one of a live process stays until it is
older than the body timeout (another replica may still be writing it), and folders whose record never came go.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from service.jobs.files import clean, temporary_name
from tests.server import console_script


def test_a_dead_writers_temporary_files_go_and_a_live_ones_stay(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()
    mine = tmp_path / "tmp" / temporary_name(".upload-")
    theirs = tmp_path / "datasets" / "alice" / f".new-{host}-{dead.pid}-abcdef012345"
    elsewhere = tmp_path / "jobs" / "bob" / "x" / f".tmp-another-host-{dead.pid}-abcdef012345"
    old = tmp_path / "tmp" / ".upload-another-host-1-abcdef012345"
    for path in (mine, theirs, elsewhere, old):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert clean(tmp_path, older_than=600) == 2
    assert mine.exists()  # this process still runs: it may still be writing
    assert elsewhere.exists()  # another host's: only once it is old
    assert not theirs.exists()
    assert not old.exists()


@pytest.mark.slow
def test_a_partial_upload_left_by_a_sigkill_is_gone_after_the_next_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with console_script(data, tmp_path / "first.log", {"GRADIENT_JOB_WORKERS": "0"}) as first:
        sender = socket.create_connection(("127.0.0.1", first.port))
        head = "POST /v1/datasets HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 50000000\r\n\r\n"
        sender.sendall(head.encode() + b"\0" * 3_000_000)  # 3 MB of 50: the upload is under way
        deadline = time.monotonic() + 10
        while not (partial := list((data / "tmp").glob(".upload-*"))) or partial[0].stat().st_size < 1_000_000:
            assert time.monotonic() < deadline, "the upload did not start"
            time.sleep(0.05)
        os.killpg(first.pid, signal.SIGKILL)
        first.process.wait()
        sender.close()
        assert partial[0].exists()  # left behind
    with console_script(data, tmp_path / "second.log", {"GRADIENT_JOB_WORKERS": "0"}) as second:
        assert not partial[0].exists()
        assert "removed 1 temporary files and folders left by stopped processes" in second.log()
