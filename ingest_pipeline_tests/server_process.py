"""A real server the tests run as a child process on 127.0.0.1 (Dovecot, Radicale): started
and waited for until its ports answer, stopped (SIGTERM, then SIGKILL) and started again
with the same files, as a server restarted in the middle of a run."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HOST = "127.0.0.1"
START_SECONDS = 30


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``argv`` run in its own session, its output appended to ``log``; started means every
    one of ``ports`` accepts connections. ``log_tail`` says what went wrong when it does not
    start."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log: Path,
        ports: Sequence[int],
        log_tail: Callable[[], str],
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.ports = list(ports)
        self.log_tail = log_tail
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_tail()}")
            with contextlib.suppress(OSError):
                for port in self.ports:
                    socket.create_connection((HOST, port), timeout=1).close()
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not listen in {START_SECONDS} s: {self.log_tail()}")

    def stop(self) -> None:
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=20)
        self._process = None
