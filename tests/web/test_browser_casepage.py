"""The case page and caseload in a real headless browser: page weight and time to the chart,
sections, the not-on-track case, the phone width, print, and the caseload filters.

Figures (transferred bytes, milliseconds to the chart drawn) are printed; the byte budget is
asserted (deterministic), the time is reported (and checked by benchmarks/bench_page_weight.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from .test_browser import DOCS_SHOTS, _login, server  # noqa: F401  (module fixture)

pytestmark = pytest.mark.browser
BUDGET_BYTES = 1_500_000


def _case_url(page: Any, base: str, text: str) -> str:
    page.goto(f"{base}/dashboard?q=" + text.replace(" ", "+"))
    link = page.locator("table.caseload a").first
    return base + str(link.get_attribute("href"))


def _not_on_track(page: Any, base: str) -> str:
    page.goto(f"{base}/dashboard")
    row = page.locator("table.caseload tr", has_text="Not on track").first
    return base + str(row.locator("a").first.get_attribute("href"))


def first_load(chromium: Any, url: str, state: Any, **ctx: Any) -> tuple[int, float]:
    """(bytes transferred, ms from navigation start to the chart drawn) with an empty cache."""
    context = chromium.new_context(storage_state=state, **ctx)
    page = context.new_page()
    sizes: list[int] = []
    page.on("requestfinished", lambda r: sizes.append(
        r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]))
    page.goto(url)
    page.wait_for_selector("#chart[data-ready='1']", timeout=20_000)
    page.wait_for_load_state("networkidle")
    ms = float(page.evaluate(
        "performance.getEntriesByName('chart-drawn')[0].startTime"))
    context.close()
    return sum(sizes), ms


def test_first_load_of_a_case_page_fits_the_budget(server: str, browser: Any) -> None:  # noqa: F811
    dana = _login(browser, server, "dana@example.org")
    url = _case_url(dana, server, "")
    state = dana.context.storage_state()
    first_load(browser, url, state)     # the server compresses each file once
    transferred, ms = first_load(browser, url, state)
    print(f"\ncase page first load: {transferred:,} bytes transferred, chart drawn at {ms:.0f} ms")
    assert transferred <= BUDGET_BYTES


def test_chart_is_drawn_without_plotly_and_turns_interactive_on_request(
        server: str, browser: Any) -> None:  # noqa: F811
    sam = _login(browser, server, "sam@example.org")
    loaded: list[str] = []
    sam.on("request", lambda r: loaded.append(r.url))
    sam.goto(_not_on_track(sam, server))
    sam.wait_for_selector("#chart[data-ready='1'] svg.chart-svg")
    assert not any("plotly" in url for url in loaded), "plotly.js is not loaded up front"
    sam.click("text=Interactive chart")
    sam.wait_for_selector("#chart[data-interactive='1']", timeout=30_000)
    assert any("plotly" in url for url in loaded)
    assert sam.locator("#chart .main-svg").count() >= 1      # plotly drew over the SVG
    assert sam.errors == [], sam.errors                       # no CSP violations


def test_not_on_track_case_shows_outcome_under_alliance_and_leads_with_repair(
        server: str, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    shots = DOCS_SHOTS if os.environ.get("ALLIANCE_UPDATE_SCREENSHOTS") else tmp_path
    sam = _login(browser, server, "sam@example.org", viewport={"width": 1280, "height": 900})
    sam.screenshot(path=str(shots / "caseload-triage.png"), full_page=True)
    url = _not_on_track(sam, server)
    sam.goto(url)
    sam.wait_for_selector("#chart[data-ready='1']", timeout=20_000)
    sam.screenshot(path=str(shots / "case-not-on-track.png"), full_page=True)
    headline = sam.locator(".alert .headline").inner_text()
    assert headline.startswith("Not on track on"), headline
    assert not headline.startswith("ACT"), "the badge shows the severity"
    assert "not on track" in sam.locator(".outcome-status").inner_text()
    assert sam.locator(".alert ul.evidence > li").count() <= 3
    names = sam.evaluate("Array.from(document.querySelectorAll('#chart .legendtext'))"
                         ".map(e => e.textContent)")
    assert any("expected path" in n for n in names) and any("tolerance band" in n for n in names)
    assert any("attended" in n for n in names)
    # sections: one at a time, chosen by the tab
    assert sam.locator("#overview").is_visible() and not sam.locator("#sessions").is_visible()
    sam.click("nav.tabs >> text=Sessions")
    assert sam.locator("#sessions").is_visible() and not sam.locator("#overview").is_visible()
    # print: every clinical section, no navigation or forms
    sam.emulate_media(media="print")
    assert sam.locator("#overview").is_visible() and sam.locator("#sessions").is_visible()
    assert not sam.locator("nav.tabs").is_visible()


@pytest.mark.parametrize("path", ["/dashboard", "case"])
def test_no_horizontal_scroll_at_390px(server: str, browser: Any, path: str) -> None:  # noqa: F811
    page = _login(browser, server, "sam@example.org", viewport={"width": 390, "height": 844})
    url = _not_on_track(page, server) if path == "case" else f"{server}{path}"
    page.goto(url)
    if path == "case":
        page.wait_for_selector("#chart[data-ready='1']", timeout=20_000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path}: the page is {width}px wide"


def test_caseload_filters_in_the_browser(server: str, browser: Any) -> None:  # noqa: F811
    lee = _login(browser, server, "lee@example.org")
    lee.goto(f"{server}/dashboard")
    lee.select_option("select[name=severity]", "act")
    lee.click("form.filters button")
    lee.wait_for_load_state()
    badges = lee.locator("table.caseload td[data-label=Alert] .badge").all_inner_texts()
    assert badges and set(badges) == {"act"}
    assert "severity=act" in lee.url
