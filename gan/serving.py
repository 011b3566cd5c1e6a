"""Serving the app to a class: process settings for the server, and the server as a child process.

    configure_torch()                                    # top of every page that runs torch
    every = LIVE_TRAINING.interval()                     # 0.14 s, or 0.4 s in a crowd: the run_every
    with LIVE_TRAINING.turn(id(run), per_second=1 / every) as seconds:
        ...                                              # train for `seconds`, then redraw

    with streamlit_server(ROOT, log) as (url, proc):     # tests and benchmarks: free port, headless
        ...                                              # url answers /_stcore/health here

The server is stopped (terminate, then kill) when the block ends, whatever happened inside it.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch


def configure_torch(threads: int = 1) -> None:
    """One intra-op thread per torch call, for the whole process (cheap to call on every script run).

    Streamlit runs each session's script in a thread of its own. With torch's default (one thread
    per core) every session's convolution tries to use every core, and when the cores are already
    busy (other sessions, other programs) the threads wait for each other: on two busy cores a
    64-face grid took 1.56 s with two threads and 0.67 s with one. With one thread each, sessions
    run side by side, one per core.
    """
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


class Turns:
    """At most `slots` holders at once, the others served in the order they came.

    threading.Semaphore is not: a thread that finds a slot free takes it, even ahead of one woken for it, and
    the woken one waits again at the back of the queue. Fifteen threads taking 2 slots for 10 ms of Python each,
    20 ms apart, waited up to 0.74 s for a turn that way (p99 0.58 s); here, at most 0.15 s.
    """

    def __init__(self, slots: int):
        self.free = slots
        self.waiting: deque[threading.Event] = deque()
        self.lock = threading.Lock()

    def __enter__(self) -> None:
        with self.lock:
            if self.free and not self.waiting:
                self.free -= 1
                return
            mine = threading.Event()
            self.waiting.append(mine)
        mine.wait()  # a leaving holder hands its slot straight to the first in line

    def __exit__(self, *exc) -> None:
        with self.lock:
            if self.waiting:
                self.waiting.popleft().set()
            else:
                self.free += 1


class FairShare:
    """Live work (training and redrawing) of every session, taken in turns and sized to share the CPU.

    Streamlit serves every session from one process whose Python work the GIL serialises. Thirty
    live fragments each asking for an update a few times a second, all at once, starve the event
    loop that sends their charts (updates fell to 0.1 a second per session in bench_sessions.py);
    taken `slots` at a time they do not. And the training in each turn is a slice of a share of the
    CPU, split evenly among the sessions training right now: `alone` seconds of training per second
    while fewer than `crowd` sessions train (a lecturer, a student on a laptop: most of a core, so a
    run goes at nearly the command line's speed), `shared` seconds once a crowd does, so that thirty
    sessions each get a thirtieth of it and leave the rest for charts and faces. A session counts as
    training until it has not asked for `window` seconds.
    """

    def __init__(self, alone: float, shared: float, slots: int, intervals: tuple[float, float], crowd: int,
                 window: float = 2.0):
        self.alone, self.shared = alone, shared
        self.fast, self.slow = intervals
        self.crowd = crowd
        self.window = window
        self.turns = Turns(slots)
        self.last_asked: dict[Hashable, float] = {}
        self.lock = threading.Lock()

    def interval(self) -> float:
        """Seconds between a session's updates: `fast` while fewer than `crowd` sessions train, else `slow`."""
        now = time.monotonic()
        with self.lock:
            training = sum(now - t <= self.window for t in self.last_asked.values())
        return self.fast if training < self.crowd else self.slow

    def slice(self, who: Hashable, per_second: float) -> float:
        """Seconds of training `who` may do now, when it asks per_second times a second."""
        now = time.monotonic()
        with self.lock:
            self.last_asked = {k: t for k, t in self.last_asked.items() if now - t <= self.window}
            self.last_asked[who] = now
            training = len(self.last_asked)
            return (self.alone if training < self.crowd else self.shared) / (training * per_second)

    @contextmanager
    def turn(self, who: Hashable, per_second: float) -> Iterator[float]:
        """Wait for a turn; inside it, train for the seconds yielded and draw the update."""
        with self.turns:
            yield self.slice(who, per_second)


# The live toy-GAN training of all sessions together, one at a time: while fewer than 4 sessions train (a lecturer,
# a few students), 0.75 s of training per second among them and an update every 0.14 s (the browser, on the same
# two cores, needs the rest to draw 5 updates a second); in a class, 0.15 s per second among them all and 2.5
# updates a second each. One turn at a time, not two: two turns only share the process's GIL and switch between
# each other. In the class of bench_sessions.py, one turn at a time gave the slowest session more updates and the
# face grids more CPU in eight runs of nine (bench/README.md, session 9).
LIVE_TRAINING = FairShare(alone=0.75, shared=0.15, slots=1, intervals=(0.14, 0.4), crowd=4)


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, seconds: float) -> None:
    """Poll url/_stcore/health until it answers 200; RuntimeError with the log if the server dies or stays silent."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer {url}/_stcore/health in {seconds:.0f} s:\n{log.read_text()}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def streamlit_server(root: Path, log: Path, startup_seconds: float = 90) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run `streamlit run app.py` from root on a free port; yields (base URL, process); output goes to log."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.address", "127.0.0.1", "--server.port", str(port)],
            cwd=root, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log, startup_seconds)
        yield url, proc
    finally:
        stop(proc)
