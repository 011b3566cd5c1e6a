"""A class of thirty on one machine: live weight recovery and face grids, all sessions at once.

    python bench/bench_sessions.py                                    # 30 sessions, one server process
    python bench/bench_sessions.py --servers 2                        # the README's deployment
    python bench/bench_sessions.py --sessions 5 --train-seconds 8     # a quick look

Each session is a client of Streamlit's own websocket protocol (protobuf BackMsg/ForwardMsg over
/_stcore/stream, what the browser sends and receives), not a browser: thirty Chromiums on two
cores would measure Chromium, not the server. Like the browser, a session re-requests every
`st.fragment(run_every=...)` on the interval the server announces, and fetches each image it is
sent. A session opens Weight recovery, presses Start and watches the live chart for
--train-seconds, then opens Faces and asks for --grids sample grids with seeds of its own (so no
session is served from another's cache), --think seconds apart. Sessions arrive spread over
--ramp seconds, like a class following "now press Start"; with --servers N they are dealt out to
N server processes in turn, as a sticky proxy would.

Reported: time from Start to the first chart that shows training; changed charts per second per
session while training; time from opening Faces to its sample grid, and from a new seed to the new
grid; the server's RSS and CPU, and the CPU the clients themselves took from the same cores; and
errors, where a session seeing a grid or run that is not its own counts as one.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from gan.serving import streamlit_server  # noqa: E402

CHARTS = ("vega_lite_chart", "plotly_chart", "echarts_chart")
ITERATION = re.compile(r"Iteration ([\d,]+) of ([\d,]+)")
TICK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------------------ one session

@dataclass
class Widget:
    id: str
    fragment: str


@dataclass
class Session:
    """One browser tab's worth of protocol: reruns out, deltas in, fragment timers, widget states."""

    url: str
    ws: websockets.ClientConnection | None = None
    page_hash: str = ""
    widgets: dict[str, Widget] = field(default_factory=dict)
    states: dict[str, WidgetState] = field(default_factory=dict)
    images: list[tuple[float, str, str]] = field(default_factory=list)  # (time, caption, media url)
    charts: list[tuple[float, tuple[int, ...], bytes]] = field(default_factory=list)  # (time, place, chart)
    texts: list[str] = field(default_factory=list)  # markdown bodies
    errors: list[str] = field(default_factory=list)
    finished: int = 0
    timers: dict[str, tuple[float, asyncio.Task]] = field(default_factory=dict)  # fragment: (interval, its timer)
    reader: asyncio.Task | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def connect(self) -> None:
        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = await websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None)
        self.reader = asyncio.get_running_loop().create_task(self.receive())

    async def close(self) -> None:
        self.stop_timers()
        await self.ws.close()

    def stop_timers(self) -> None:
        for _, task in self.timers.values():
            task.cancel()
        self.timers.clear()

    async def rerun(self, page_name: str = "", fragment: str = "", auto: bool = False,
                    extra: tuple[WidgetState, ...] = ()) -> None:
        msg = BackMsg()
        state = msg.rerun_script
        state.page_name = page_name
        state.page_script_hash = "" if page_name else self.page_hash
        state.fragment_id = fragment
        state.is_auto_rerun = auto
        state.widget_states.widgets.extend([*self.states.values(), *extra])
        await self.ws.send(msg.SerializeToString())

    async def open(self, page_name: str) -> None:
        """Navigate to a page and wait for its script run to finish."""
        self.stop_timers()
        self.widgets.clear()
        self.states.clear()
        done = self.finished
        await self.rerun(page_name=page_name)
        await self.until(lambda: self.finished > done, 300)

    async def set_int(self, name: str, value: int) -> None:
        """Set a number input, found by its key if the page gave it one, else by its label."""
        w = self.widgets[name]
        self.states[w.id] = WidgetState(id=w.id, int_value=value)
        await self.rerun(fragment=w.fragment)

    async def click(self, name: str) -> None:
        """Press a button, found by its key if the page gave it one, else by its label."""
        w = self.widgets[name]
        await self.rerun(fragment=w.fragment, extra=(WidgetState(id=w.id, trigger_value=True),))

    async def until(self, predicate: Callable[[], bool], seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while not predicate():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.0, deadline - time.perf_counter()))

    async def every(self, fragment: str, seconds: float) -> None:
        """What the browser does for st.fragment(run_every=...): ask for that fragment again and again."""
        while True:
            await asyncio.sleep(seconds)
            await self.rerun(fragment=fragment, auto=True)

    def set_timer(self, fragment: str, interval: float) -> None:
        """As the browser does: a fragment's timer is kept if its interval is the same, else replaced."""
        if fragment in self.timers:
            if self.timers[fragment][0] == interval:
                return
            self.timers.pop(fragment)[1].cancel()
        self.timers[fragment] = interval, asyncio.get_running_loop().create_task(self.every(fragment, interval))

    async def receive(self) -> None:
        try:
            async for raw in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self.handle(msg)
                self.changed.set()
        except websockets.ConnectionClosedError as e:
            self.errors.append(f"connection closed: {e}")
            self.changed.set()

    def handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "navigation":
            self.page_hash = msg.navigation.page_script_hash
        elif kind == "script_finished":
            self.finished += 1
        elif kind == "new_session" and not msg.metadata.run.fragment_ids:
            self.stop_timers()  # a full run: the browser drops every fragment's timer, and the run sets them anew
        elif kind == "auto_rerun":
            self.set_timer(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for _, task in [self.timers.pop(f) for f in msg.stop_auto_rerun.fragment_ids if f in self.timers]:
                task.cancel()
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            self.element(msg.delta.new_element, msg.delta.fragment_id, tuple(msg.metadata.delta_path))

    def element(self, el, fragment: str, place: tuple[int, ...]) -> None:
        kind = el.WhichOneof("type")
        body = getattr(el, kind)
        now = time.perf_counter()
        if kind == "exception":
            self.errors.append(f"exception: {body.type}: {body.message}")
        elif kind == "alert" and body.format == body.ERROR:
            self.errors.append(f"error box: {body.body}")
        elif kind == "imgs":
            self.images += [(now, img.caption, img.url) for img in body.imgs]
        elif kind in CHARTS:
            self.charts.append((now, place, body.SerializeToString()))
        elif kind == "markdown":
            self.texts.append(body.body)
        elif getattr(body, "label", "") and getattr(body, "id", ""):
            user_key = body.id.rsplit("-", 1)[1]  # "$$ID-<hash>-<key>", key "None" when the page gave none
            self.widgets[body.label if user_key == "None" else user_key] = Widget(body.id, fragment)

    def fetch(self, media: str) -> None:
        """Download an image the page shows, as the browser does."""
        with urllib.request.urlopen(self.url + media, timeout=60) as r:
            r.read()


# ------------------------------------------------------------------------------------------ server load

@dataclass
class Usage:
    """The server processes' resident memory and CPU time, together; memory sampled twice a second."""

    pids: list[int]
    rss_mb: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def cpu_seconds(self) -> float:
        total = 0.0
        for pid in self.pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
        return total

    def rss(self) -> float:
        lines = [line for pid in self.pids for line in Path(f"/proc/{pid}/status").read_text().splitlines()]
        return sum(int(line.split()[1]) / 1024 for line in lines if line.startswith("VmRSS:"))

    def sample(self) -> None:
        while not self.stop.wait(0.5):
            self.rss_mb.append(self.rss())


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all processes, all cores), from /proc/stat."""
    user, nice, system, idle, iowait, *rest = (int(x) for x in Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + sum(rest)) / TICK


# ------------------------------------------------------------------------------------------ what a student does

@dataclass
class Timings:
    first_chart: list[float] = field(default_factory=list)
    chart_rate: list[float] = field(default_factory=list)
    faces_page: list[float] = field(default_factory=list)
    grid: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def new_image(s: Session, since: int, wanted: Callable[[str], bool], seconds: float = 300) -> None:
    """Wait for an image after the since-th whose caption is wanted, and download it."""
    def found() -> bool:
        return any(wanted(caption) for _, caption, _ in s.images[since:])

    await s.until(found, seconds)
    await asyncio.to_thread(s.fetch, next(url for _, caption, url in s.images[since:] if wanted(caption)))


async def faces(s: Session, seeds: list[int], think: float, out: Timings) -> None:
    """Open Faces, wait for its grid, then ask for a new grid per seed, about think seconds apart."""
    pause = random.Random(seeds[0])
    start, since = time.perf_counter(), len(s.images)
    await s.open("Faces")
    await new_image(s, since, lambda caption: "samples, seed 0," in caption)
    out.faces_page.append(time.perf_counter() - start)
    for seed in seeds:
        await asyncio.sleep(pause.uniform(0.5, 1.5) * think)
        start, since = time.perf_counter(), len(s.images)
        await s.set_int("grid_seed", seed)
        await new_image(s, since, lambda caption: f"samples, seed {seed}," in caption)
        out.grid.append(time.perf_counter() - start)
    strangers = {c for _, c, _ in s.images if "samples, seed" in c} - {
        c for _, c, _ in s.images if any(f"samples, seed {x}," in c for x in [0, *seeds])}
    out.errors += [f"saw a grid it never asked for: {c}" for c in strangers]


def chart_updates(s: Session, since: int) -> list[float]:
    """When the session's first live chart changed, from the since-th chart on: one time per live update."""
    charts = s.charts[since:]
    if not charts:
        return []
    place = charts[0][1]
    shown = [(t, data) for t, where, data in charts if where == place]
    return [t for (t, data), (_, before) in zip(shown, [(0.0, b"")] + shown) if data != before]


def progress_errors(s: Session, steps: int) -> list[str]:
    """A session must only ever see its own run: its own iteration total, and iterations that never go back."""
    seen = [tuple(int(x.replace(",", "")) for x in m.groups()) for m in map(ITERATION.search, s.texts) if m]
    errors = [f"saw a run of {total} iterations, its own has {steps}" for _, total in seen if total != steps]
    done = [k for k, _ in seen]
    return errors + [f"iteration went back from {a} to {b}" for a, b in zip(done, done[1:]) if b < a]


async def recovery(s: Session, steps: int, seconds: float, out: Timings) -> None:
    """Open Weight recovery, set a run length of its own, press Start and watch the live charts for seconds."""
    await s.open("Weight_recovery")
    done = s.finished
    await s.set_int("steps", steps)
    await s.until(lambda: s.finished > done, 300)
    since, start = len(s.charts), time.perf_counter()
    await s.click("start")
    await s.until(lambda: chart_updates(s, since), 300)
    first = chart_updates(s, since)[0]
    out.first_chart.append(first - start)
    await asyncio.sleep(max(0.0, first + seconds - time.perf_counter()))
    out.chart_rate.append(sum(first < t <= first + seconds for t in chart_updates(s, since)) / seconds)
    out.errors += progress_errors(s, steps)


async def student(i: int, url: str, args: argparse.Namespace, out: Timings) -> None:
    await asyncio.sleep(i * args.ramp / args.sessions)
    s = Session(url)
    await s.connect()
    try:
        await recovery(s, 2000 + i, args.train_seconds, out)
        await faces(s, [10_000 + i * args.grids + k for k in range(args.grids)], args.think, out)
    except (TimeoutError, KeyError, websockets.ConnectionClosed) as e:
        out.errors.append(f"session {i}: {type(e).__name__}: {e}")
    finally:
        out.errors += [f"session {i}: {e}" for e in s.errors]
        await s.close()


async def warm_up(url: str) -> float:
    """One session through both pages first, as the lecturer does before class: loads models, fills caches."""
    start = time.perf_counter()
    s = Session(url)
    await s.connect()
    try:
        for page in ("Weight_recovery", "Faces"):
            await s.open(page)
    finally:
        await s.close()
    if s.errors:
        raise RuntimeError(f"warm-up failed: {s.errors}")
    return time.perf_counter() - start


async def class_of(urls: list[str], args: argparse.Namespace) -> Timings:
    """All the sessions, dealt out to the servers in turn (as a sticky load balancer would)."""
    out = Timings()
    await asyncio.gather(*(student(i, urls[i % len(urls)], args, out) for i in range(args.sessions)))
    return out


# ------------------------------------------------------------------------------------------ report

def pct(xs: list[float], q: float) -> float:
    """Nearest-rank percentile; nan for no data."""
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q / 100 * len(xs) + 0.5) - 1))]


def row(name: str, xs: list[float]) -> str:
    return f"  {name:<34}{pct(xs, 50):8.2f}{pct(xs, 95):8.2f}{max(xs, default=float('nan')):8.2f}   (n={len(xs)})"


@dataclass
class Load:
    seconds: float  # of the run, warm-up excluded
    warm_up: float
    server_cpu: float  # CPU seconds of the server processes during the run
    machine_busy: float  # CPU seconds of the whole machine during the run
    clients_cpu: float  # CPU seconds of this process (the sessions' clients) during the run
    rss_idle: float  # MB, after warm-up
    rss_peak: float


def report(args: argparse.Namespace, t: Timings, load: Load) -> dict[str, bool]:
    targets = {
        "p95 new-seed grid <= 1 s": pct(t.grid, 95) <= 1.0,
        "every live chart >= 2 updates/s": bool(t.chart_rate) and min(t.chart_rate) >= 2.0,
        "no errors": not t.errors,
    }
    print(f"\n{args.sessions} sessions on {args.servers} server process(es), arriving over {args.ramp:.0f} s; each "
          f"trains {args.train_seconds:.0f} s, then asks for {args.grids} grids about {args.think:.0f} s apart; "
          f"run {load.seconds:.0f} s after a {load.warm_up:.0f} s warm-up")
    print(f"  {'seconds':<34}{'p50':>8}{'p95':>8}{'max':>8}")
    print(row("Start -> first chart update", t.first_chart))
    print(row("open Faces -> sample grid", t.faces_page))
    print(row("new seed -> new grid", t.grid))
    print(f"  live chart updates/s per session: min {min(t.chart_rate, default=float('nan')):.2f}, "
          f"p50 {pct(t.chart_rate, 50):.2f}")
    print(f"  server RSS: {load.rss_idle:.0f} MB after warm-up, {load.rss_peak:.0f} MB peak; server CPU "
          f"{load.server_cpu / load.seconds:.2f} cores on average (machine: {load.machine_busy / load.seconds:.2f} "
          f"of {os.cpu_count()} cores busy, of which this benchmark's clients {load.clients_cpu / load.seconds:.2f})")
    print(f"  errors: {len(t.errors)}" + "".join(f"\n    {e}" for e in t.errors[:10]))
    for name, ok in targets.items():
        print(f"  {'met   ' if ok else 'MISSED'} {name}")
    return targets


def get_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=30)
    p.add_argument("--ramp", type=float, default=10.0, help="seconds over which the sessions arrive")
    p.add_argument("--train-seconds", type=float, default=20.0, help="how long each session watches its live chart")
    p.add_argument("--grids", type=int, default=3, help="new-seed sample grids per session")
    p.add_argument("--think", type=float, default=3.0, help="seconds between a session's grids")
    p.add_argument("--servers", type=int, default=1,
                   help="Streamlit processes, each with its share of the sessions (behind a sticky proxy in class)")
    p.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout whose app.py to serve (default: this one)")
    return p.parse_args(argv)


def measure(urls: list[str], usage: Usage, args: argparse.Namespace) -> tuple[Timings, Load]:
    warm = sum(asyncio.run(warm_up(url)) for url in urls)
    rss_idle = usage.rss()
    sampler = threading.Thread(target=usage.sample, daemon=True)
    sampler.start()
    cpu, busy, own, start = usage.cpu_seconds(), machine_busy_seconds(), time.process_time(), time.perf_counter()
    try:
        timings = asyncio.run(class_of(urls, args))
    finally:
        usage.stop.set()
        sampler.join()
    load = Load(time.perf_counter() - start, warm, usage.cpu_seconds() - cpu, machine_busy_seconds() - busy,
                time.process_time() - own, rss_idle, max(usage.rss_mb, default=rss_idle))
    return timings, load


def main(argv: list[str] | None = None) -> int:
    args = get_args(argv)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as servers:
        started = [servers.enter_context(streamlit_server(args.app_dir, Path(tmp) / f"server{k}.log"))
                   for k in range(args.servers)]
        timings, load = measure([url for url, _ in started], Usage([proc.pid for _, proc in started]), args)
    targets = report(args, timings, load)
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
