"""HTML to PDF through the local Chromium (Playwright drives it; nothing is downloaded and
every network request is refused, so nothing leaves the machine).

The chart of a report page (``<script type="application/json" id="figure">``) is drawn with
the plotly.js bundled in the installed ``plotly`` package before the page is printed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from alliance.errors import ConfigError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
DRAW = """async () => {
  const el = document.getElementById('figure');
  if (!el) { return; }
  const fig = JSON.parse(el.textContent);
  const layout = Object.assign({}, fig.layout, {width: 680, height: 520});
  await Plotly.newPlot('chart', fig.data, layout, {staticPlot: true});
}"""


def plotly_bundle() -> Path:
    """The ``plotly.min.js`` inside the installed plotly package (never committed here)."""
    try:
        import plotly
    except ImportError:
        raise ConfigError("charts need plotly: pip install 'alliance[pdf]'") from None
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise ConfigError(f"plotly.js not found in the plotly package at {path}")
    return path


def find_chromium(path: str | None = None) -> str:
    """The Chromium to drive: ``path`` if given, else the first on PATH."""
    if path:
        if not Path(path).is_file():
            raise ConfigError(f"{path}: no such browser executable")
        return path
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise ConfigError("PDF reports need a Chrome or Chromium browser on this machine "
                      "(Debian: apt-get install chromium)")


def html_to_pdf(html: str, *, browser: str | None = None) -> bytes:
    """Print ``html`` to A4 PDF bytes (the chart drawn first, when the page has one)."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise ConfigError("PDF reports need Playwright: pip install 'alliance[pdf]'") from None

    executable = find_chromium(browser)
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=executable, headless=True)
            try:
                page = chromium.new_page()
                page.route("**/*", lambda route: route.abort())
                page.set_content(html, wait_until="domcontentloaded")
                if "id='figure'" in html or 'id="figure"' in html:
                    page.add_script_tag(path=str(plotly_bundle()))
                    page.evaluate(DRAW)
                return page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
            finally:
                chromium.close()
    except PlaywrightError as exc:
        raise ConfigError(f"the PDF could not be rendered with {executable}: "
                          f"{str(exc).splitlines()[0]}") from None
