"""Playwright driving Debian's Chromium (never a downloaded browser) against live_server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls in the test
# body are still synchronous and safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
# axe-core is pinned in tests/js/package.json (bin/test runs `npm ci --prefix tests/js`).
AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
# Every WCAG A/AA rule plus axe's best practices, all impact levels (minor included).
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                     "best-practice"]},
               "resultTypes": ["violations"]}

# Recorded before any page script runs (init scripts are not subject to the page's CSP).
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || ''));
});
"""


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageWatch:
    """Console CSP complaints and page errors, to assert htmx works under the CSP."""

    def __init__(self) -> None:
        self.console: list[str] = []
        self.errors: list[str] = []

    def csp_messages(self, page) -> list[str]:
        seen = [m for m in self.console if "Content Security Policy" in m or "Content-Security-Policy" in m]
        return seen + list(page.evaluate("window.__cspViolations || []"))


@pytest.fixture(params=["desktop"])
def viewport(request) -> dict[str, int]:
    """1280x800 by default; ``@pytest.mark.parametrize("viewport", ["desktop", "phone"], indirect=True)``
    (or ``@both_viewports``) runs the test once per size."""
    return VIEWPORTS[request.param]


both_viewports = pytest.mark.parametrize("viewport", ["desktop", "phone"], indirect=True)


@pytest.fixture
def page(browser, live_server, viewport) -> Iterator:
    page = new_page(browser, live_server, viewport=viewport)
    yield page
    page.context.close()


def _axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci --prefix tests/js` (bin/test does)")
    return AXE.read_text()


def _timers_run(page) -> bool:
    """False in a context with JavaScript disabled, where no timer fires (and axe.run never settles)."""
    from playwright.sync_api import Error

    try:
        return page.evaluate("new Promise(resolve => setTimeout(() => resolve(true), 0))")
    except Error as e:
        if "garbage collected" in str(e):
            return False
        raise


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now (all impact levels).

    Playwright's evaluate runs over the DevTools protocol, so neither the page's CSP nor a
    context with JavaScript disabled stops axe; the page's own scripts are untouched.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    run = "options => axe.run(document, options).then(r => r.violations)"
    if _timers_run(page):
        return page.evaluate(run, AXE_OPTIONS)
    # Without JavaScript the page's event loop never fires a timer, but promise jobs still run
    # inside our evaluate: give axe a setTimeout that queues a promise job instead. The page's
    # own scripts never ran, and <noscript> content (parsed while scripting was off) stays in
    # the DOM that axe checks.
    page.evaluate("""() => {
      window.setTimeout = (fn, _ms, ...args) => { Promise.resolve().then(() => fn(...args)); return 0; };
      window.clearTimeout = () => {};
    }""")
    return page.evaluate(run, AXE_OPTIONS)


def assert_accessible(page, name: str = "") -> None:
    violations = axe_violations(page)
    if violations:
        lines = [f"axe: {len(violations)} violation(s) on {name or page.url} ({page.url}):"]
        for v in violations:
            lines.append(f"- {v['id']} [{v['impact']}] {v['help']}")
            lines += [f"    {' '.join(n['target'])}: {n['html'][:160]}" for n in v["nodes"][:5]]
        pytest.fail("\n".join(lines))


def _viewport_suffix(page) -> str:
    size = page.viewport_size or DESKTOP
    return "-phone" if size["width"] <= PHONE["width"] else ""


def shot(page, name: str, *, axe: bool = True) -> None:
    """Screenshot to artifacts/screenshots/<name>[-phone].png, then fail on any axe violation.

    A phone-sized page gets a ``-phone`` suffix so one test can run at both sizes.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}{_viewport_suffix(page)}.png"), full_page=True)
    if axe:
        assert_accessible(page, name)


def shot_both(page, name: str, *, axe: bool = True) -> None:
    """The same page state at 1280x800 and 390x844 (``name`` and ``name-phone``), axe-checked at each."""
    before = page.viewport_size or DESKTOP
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        shot(page, name, axe=axe)
    page.set_viewport_size(before)


def new_page(browser, live_server, *, viewport: dict[str, int] = DESKTOP, javascript: bool = True):
    """A fresh context and page (the caller closes ``page.context``), e.g. without JavaScript."""
    context = browser.new_context(base_url=live_server.url, viewport=viewport, java_script_enabled=javascript)
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    watch = PageWatch()
    page.on("console", lambda msg: watch.console.append(msg.text))
    page.on("pageerror", lambda err: watch.errors.append(str(err)))
    page.watch = watch
    return page


def sign_in(page, email: str, password: str, *, then: str = "**/you/") -> None:
    """Sign in; ``then`` is where the person lands (staff without memories: their work)."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(then)


def reauthenticate(page, password: str, *, screenshot: str, then: str) -> None:
    """allauth asks for the password again before a destructive step, then returns to ``then``."""
    page.wait_for_url("**/accounts/reauthenticate/**")
    shot(page, screenshot)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(then)
