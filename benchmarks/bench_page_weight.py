"""Page weight of a case page: bytes transferred and milliseconds to the chart drawn, on the
first load (empty browser cache) in headless Chromium against a local demo clinic.

Targets (issue 12): at most 1.5 MB transferred and 1 s to the chart drawn.

    python benchmarks/bench_page_weight.py --runs 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def serve(folder: Path) -> tuple[str, Any]:
    import uvicorn

    from alliance.clinic import Clinic, Settings
    from alliance.store import Box, Database, generate_key, upgrade
    from alliance.store.demo import seed_demo
    from alliance.web.app import create_app

    db = Database(f"sqlite:///{folder / 'demo.db'}")
    upgrade(db.engine)
    clinic = Clinic(Settings(database_url=db.url, box=Box.from_text(generate_key()),
                             transcript_coder="rules"), db)
    seed_demo(clinic, password="bench-password", today=dt.date(2026, 11, 20))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(clinic=clinic), host="127.0.0.1",
                                        port=port, log_level="warning"))
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", srv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--browser", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        base, srv = serve(Path(tmp))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.browser)
            login = browser.new_page()
            login.goto(f"{base}/login")
            login.fill("#email", "sam@example.org")
            login.fill("#password", "bench-password")
            login.click("button[type=submit]")
            login.wait_for_load_state()
            href = login.locator("table.caseload a").first.get_attribute("href")
            state = login.context.storage_state()
            sizes, times, steps = [], [], []
            for run in range(args.runs + 1):            # run 0 warms the server's caches
                context = browser.new_context(storage_state=state)
                page = context.new_page()
                got: list[int] = []
                page.on("requestfinished", lambda r, got=got: got.append(
                    r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]))
                page.goto(f"{base}{href}")
                page.wait_for_selector("#chart[data-ready='1']", timeout=30_000)
                page.wait_for_load_state("networkidle")
                ms = page.evaluate("performance.getEntriesByName('chart-drawn')[0].startTime")
                nav = page.evaluate(
                    "(() => { const n = performance.getEntriesByType('navigation')[0];"
                    " const p = performance.getEntriesByName('first-contentful-paint')[0];"
                    " return [n.requestStart, n.responseStart, n.responseEnd,"
                    " n.domContentLoadedEventEnd, p ? p.startTime : -1]; })()")
                context.close()
                if run:
                    sizes.append(sum(got))
                    times.append(float(ms))
                    steps.append([float(v) for v in nav])
            browser.close()
        srv.should_exit = True
    print(f"case page, first load, {args.runs} runs: transferred {statistics.median(sizes):,.0f}"
          f" bytes (target 1,500,000); chart drawn at median {statistics.median(times):.0f} ms,"
          f" min {min(times):.0f} ms (target 1000)")
    names = ("request sent", "first byte", "page received", "DOM ready", "first paint")
    print("median ms from navigation start: " + ", ".join(
        f"{name} {statistics.median(s[i] for s in steps):.0f}" for i, name in enumerate(names)))


if __name__ == "__main__":
    main()
