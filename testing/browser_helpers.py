"""Open a local HTML file in headless Chromium and report what happened.

Shared by the leaderboard page tests and the pytest-html run-report tests:

    from browser_helpers import check_page, INJECTION_PAYLOADS
    result = check_page(path, table_selector="#table-rankings", screenshot="shot.png")
    assert not result.console_errors and not result.injected_script_ran

Uses Playwright with the system Chromium (Debian's ``chromium`` package, never
``playwright install``). ``browser_unavailable_reason()`` says why a test should skip;
set LLMBENCH_REQUIRE_BROWSER=1 (CI) to turn that skip into a failure.

Injected-script detection: every payload in INJECTION_PAYLOADS calls
``window.__llmbench_injected(tag)``, a function this helper installs before the page's
own scripts run; calls are recorded, as are alert/confirm/prompt dialogs. Any
``javascript:`` link on the page is clicked (and reported) so such a payload gets its
chance to run too.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}   # a common laptop screen

_HOOK = """
window.__llmbench_hits = [];
window.__llmbench_injected = function (tag) { window.__llmbench_hits.push(String(tag)); };
"""

# Strings a hostile model name / answer might contain. Each would call the hook if run.
INJECTION_PAYLOADS = {
    "script": "<script>window.__llmbench_injected('script')</script>",
    "img-onerror": "<img src=x onerror=\"window.__llmbench_injected('img')\">",
    "javascript-link": "<a href=\"javascript:window.__llmbench_injected('link')\">click me</a>",
    "bare-javascript-url": "javascript:window.__llmbench_injected('url')",
    "attribute-breakout": "\"><svg onload=\"window.__llmbench_injected('svg')\">",
    "alert": "<script>alert('xss')</script>",
}


def chromium_path() -> str | None:
    configured = os.environ.get("LLMBENCH_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).is_file():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_unavailable_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; the browser comes from apt)"
    if chromium_path() is None:
        return "no Chromium found (apt-get install chromium, or set LLMBENCH_CHROMIUM)"
    return None


def require_browser() -> None:
    """Skip the calling test when no browser is available (fail instead under CI's flag)."""
    import pytest

    reason = browser_unavailable_reason()
    if reason:
        if os.environ.get("LLMBENCH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser required (LLMBENCH_REQUIRE_BROWSER=1) but {reason}")
        pytest.skip(reason)


def artifact_dir() -> Path:
    """Where screenshots are kept: $LLMBENCH_ARTIFACTS or reports/artifacts/browser (git-ignored)."""
    base = os.environ.get("LLMBENCH_ARTIFACTS")
    path = Path(base) if base else Path(__file__).resolve().parents[1] / "reports" / "artifacts" / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class PageCheck:
    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)      # uncaught exceptions
    injected_calls: list[str] = field(default_factory=list)   # tags passed to the hook
    dialogs: list[str] = field(default_factory=list)
    javascript_links: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)  # anything not file: / data:
    table_text: list[list[str]] | None = None                 # rows of cell texts, header first
    screenshot: Path | None = None

    @property
    def injected_script_ran(self) -> bool:
        return bool(self.injected_calls or self.dialogs)


_TABLE_JS = """
(selector) => {
  const table = document.querySelector(selector);
  if (!table) return null;
  return Array.from(table.querySelectorAll('tr')).map(
    tr => Array.from(tr.cells).map(c => c.innerText.replace(/\\s+/g, ' ').trim()));
}
"""


class Browser:
    """One headless Chromium for several pages (launching costs a second or two)."""

    def __init__(self) -> None:
        self._pw = None
        self._browser = None

    def __enter__(self) -> "Browser":
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        except Exception:
            self._pw.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._pw is not None:
            self._pw.stop()

    def check(self, html_path: str | Path, *, table_selector: str | None = None,
              screenshot: str | Path | None = None, wait_for: str | None = None,
              interact: Callable | None = None) -> PageCheck:
        """Load the file, let it settle, click javascript: links, collect what happened.

        ``wait_for``: a CSS selector to wait for (pages that build their DOM in script);
        ``interact(page)``: called after load, before collection (e.g. click a header).
        """
        assert self._browser is not None, "use Browser() as a context manager"
        url = Path(html_path).resolve().as_uri()
        result = PageCheck(url=url)
        context = self._browser.new_context(viewport=VIEWPORT, java_script_enabled=True)
        try:
            context.add_init_script(_HOOK)
            # Nothing may leave the machine: record and abort any non-local request.
            def route(r):
                if r.request.url.startswith(("file:", "data:")):
                    r.continue_()
                else:
                    result.external_requests.append(r.request.url)
                    r.abort()
            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: result.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: result.page_errors.append(str(e)))

            def on_dialog(d):
                result.dialogs.append(f"{d.type}: {d.message}")
                d.dismiss()
            page.on("dialog", on_dialog)
            page.goto(url, wait_until="load")
            if wait_for:
                page.wait_for_selector(wait_for, state="attached", timeout=15_000)
            for link in page.query_selector_all("a[href]"):
                href = link.get_attribute("href") or ""
                if href.strip().lower().startswith("javascript:"):
                    result.javascript_links.append(href)
                    try:
                        link.click(timeout=2_000, force=True)
                    except Exception:
                        pass
            if interact is not None:
                interact(page)
            page.wait_for_timeout(200)   # let any queued handler (onerror, onload) fire
            result.injected_calls = list(page.evaluate("window.__llmbench_hits || []"))
            if table_selector:
                result.table_text = page.evaluate(_TABLE_JS, table_selector)
            if screenshot:
                page.screenshot(path=str(screenshot), full_page=True)
                result.screenshot = Path(screenshot)
        finally:
            context.close()
        return result


def check_page(html_path: str | Path, **kwargs) -> PageCheck:
    """One-shot ``Browser().check(...)`` with its own browser."""
    with Browser() as browser:
        return browser.check(html_path, **kwargs)
