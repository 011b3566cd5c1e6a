"""A lone user's default run on the Weight recovery page, in Chromium, against the command line's training time.

    python bench/bench_toy_page.py              # 3 command-line runs, then 3 page runs (about a minute)
    python bench/bench_toy_page.py --runs 1

The command line: `python -m gan.toy recover --json` with the defaults (500 iterations), its training time
(the JSON's `seconds`). The page: `streamlit run app.py`, headless Debian Chromium through Playwright, a
fresh tab per run, every view shown (the defaults); from pressing Start to the page showing
"Iteration 500 of 500", timed in the browser, and the live updates it showed meanwhile (each new iteration
count is one update). Targets (issue 12): page time <= 3 x the command's median training time + 1 s, and
at least 5 updates a second.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from gan.serving import streamlit_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
WATCH = """() => {
  window.ticks = [];
  const seen = new Set();
  new MutationObserver(() => {
    for (const el of document.querySelectorAll('[data-testid="stMarkdownContainer"]')) {
      const m = el.textContent.match(/Iteration ([\\d,]+) of ([\\d,]+)/);
      if (m && !seen.has(m[1])) { seen.add(m[1]); window.ticks.push([performance.now(), m[1], m[2]]); }
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def command_seconds() -> float:
    done = subprocess.run([sys.executable, "-m", "gan.toy", "recover", "--json"], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)["seconds"]


def page_run(page: Page, url: str) -> tuple[float, float]:
    """Seconds from Start to the last iteration on the page, and live updates per second meanwhile."""
    page.goto(f"{url}/Weight_recovery")
    page.get_by_role("button", name="Start").wait_for()
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    page.evaluate(WATCH)
    start = page.evaluate("performance.now()")
    page.get_by_role("button", name="Start").click()
    page.wait_for_function("window.ticks.some(t => t[1] === t[2])", timeout=300_000, polling=50)
    ticks = page.evaluate("window.ticks")
    seconds = (ticks[-1][0] - start) / 1000
    return seconds, len(ticks) / seconds


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    cli = [command_seconds() for _ in range(args.runs)]
    limit = 3 * statistics.median(cli) + 1
    print(f"command line, training: {' / '.join(f'{s:.2f}' for s in cli)} s (median {statistics.median(cli):.2f}); "
          f"page limit {limit:.2f} s")
    results = []
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(ROOT, Path(tmp) / "server.log") as (url, _):
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
            for k in range(args.runs + 1):  # the first run warms the server up (imports, first script run)
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                seconds, rate = page_run(context.new_page(), url)
                context.close()
                print(f"  page run {k}{' (warm-up, not counted)' if k == 0 else ''}: {seconds:.2f} s, "
                      f"{rate:.1f} updates/s", flush=True)
                if k:
                    results.append((seconds, rate))
            browser.close()
    worst_time, worst_rate = max(s for s, _ in results), min(r for _, r in results)
    targets = {f"page run <= {limit:.2f} s (3 x command + 1 s)": worst_time <= limit,
               ">= 5 live updates/s": worst_rate >= 5}
    print(f"page: worst {worst_time:.2f} s, median {statistics.median(s for s, _ in results):.2f} s; "
          f"updates/s worst {worst_rate:.1f}")
    for name, ok in targets.items():
        print(f"  {'met   ' if ok else 'MISSED'} {name}")
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
