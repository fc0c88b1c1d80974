"""Worker processes for the build's stages, and how they end.

Stages run in spawned worker processes (a fork of a process whose libraries already run threads,
numpy's BLAS or OCCT, can inherit a held lock and hang). The workers, and every tool they start
(kicad-cli, PrusaSlicer), live in one process group led by a small watchdog process whose only
job is to wait for the build's main process to go away: it reads a pipe whose other end only the
main process holds, so when the main process ends, however it ends (SIGKILL included), the read
returns and the watchdog kills the whole group. SIGINT and SIGTERM to the main process raise
`Interrupted`, and the build kills the group at once (`WorkerPool.kill`).

The workers' group is not the terminal's foreground group, so a Ctrl-C reaches only the main
process, which decides.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

_WATCHDOG = (
    "import os, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "sys.stdin.buffer.read()\n"
    "os.killpg(os.getpgrp(), signal.SIGKILL)\n"
)


class Interrupted(BaseException):
    """SIGINT or SIGTERM reached the build; `exit_code` is 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _raise_interrupted(signum, _frame) -> None:
    raise Interrupted(signum)


@contextmanager
def interruptible():
    """SIGINT and SIGTERM raise `Interrupted` in the main thread while the block runs."""
    previous = {s: signal.signal(s, _raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def signals_deferred():
    """Hold SIGINT and SIGTERM back while the block runs (the final swap of the outputs), then
    deliver them."""
    blocked = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _join_group(pgid: int) -> None:
    """Worker initializer: join the watchdog's process group; ignore the terminal's Ctrl-C."""
    os.setpgid(0, pgid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class WorkerPool:
    """A ProcessPoolExecutor whose workers and their tools die with the build."""

    def __init__(self, workers: int) -> None:
        self.watchdog = subprocess.Popen([sys.executable, "-c", _WATCHDOG], stdin=subprocess.PIPE,
                                         process_group=0, close_fds=True)
        self.pgid = self.watchdog.pid
        self.workers = workers
        self.executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_join_group, initargs=(self.pgid,))

    def submit(self, fn, *args):
        return self.executor.submit(fn, *args)

    def renew(self) -> None:
        """A fresh executor after a worker died (a broken pool takes every running stage down)."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self._new_executor()

    def kill(self) -> None:
        """Kill every worker and tool at once (the watchdog too)."""
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.watchdog.wait()

    def close(self) -> None:
        """Normal end: let idle workers exit, then release the watchdog."""
        self.executor.shutdown(wait=True, cancel_futures=True)
        if self.watchdog.stdin:
            self.watchdog.stdin.close()  # the watchdog kills what is left of the group
        self.watchdog.wait()
