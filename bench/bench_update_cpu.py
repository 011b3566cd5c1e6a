"""The server's CPU per live update of the toy lab: the cost that decides how many students a core serves.

    python bench/bench_update_cpu.py                          # 12 sessions on one server process
    python bench/bench_update_cpu.py --sessions 4 --app-dir ../other-checkout

Each session (bench_sessions.py's client) opens Weight recovery, presses Start and watches; after they have all
started, the server's CPU time over --seconds is divided by the status lines ("Iteration k of n") it sent in that
time, one per live update. It varies less than bench_sessions.py's updates a second, which follow the VM's speed
and everything else running: compare two versions by running them in turns.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bench_sessions import ITERATION, ROOT, Session, Usage, warm_up  # it also puts the repository on sys.path
from gan.serving import streamlit_server


async def student(i: int, url: str, seconds: float, out: list[Session]) -> None:
    await asyncio.sleep(i * 0.2)
    s = Session(url)
    await s.connect()
    try:
        await s.open("Weight_recovery")
        done = s.finished
        await s.set_int("steps", 3000)  # longer than the watch: nobody finishes
        await s.until(lambda: s.finished > done, 300)
        out.append(s)
        await s.click("start")
        await asyncio.sleep(seconds)
    finally:
        await s.close()


async def measure(url: str, usage: Usage, args: argparse.Namespace) -> tuple[float, float]:
    """(updates a second, server CPU seconds per update) over args.seconds, once every session trains."""
    sessions: list[Session] = []
    settle = 0.2 * args.sessions + 4
    tasks = [asyncio.create_task(student(i, url, settle + args.seconds + 2, sessions)) for i in range(args.sessions)]
    await asyncio.sleep(settle)
    cpu, start, before = usage.cpu_seconds(), time.perf_counter(), [len(s.texts) for s in sessions]
    await asyncio.sleep(args.seconds)
    cpu, end, after = usage.cpu_seconds() - cpu, time.perf_counter(), [len(s.texts) for s in sessions]
    await asyncio.gather(*tasks)
    updates = sum(bool(ITERATION.search(text)) for s, a, b in zip(sessions, before, after) for text in s.texts[a:b])
    return updates / (end - start), cpu / max(updates, 1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=12)
    p.add_argument("--seconds", type=float, default=10.0, help="how long the CPU is measured")
    p.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout whose app.py to serve (default: this one)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(args.app_dir, Path(tmp) / "server.log") as (url, proc):
        asyncio.run(warm_up(url))
        rate, cpu = asyncio.run(measure(url, Usage([proc.pid]), args))
    print(f"{args.sessions} sessions on one server: {rate:.1f} live updates/s, {1000 * cpu:.1f} ms of server CPU per "
          f"update")
    return 0


if __name__ == "__main__":
    sys.exit(main())
