"""A Chromium page logged in to the Airflow UI, for the ETL-Express browser tests.

Debian's Chromium (apt `chromium`) driven by the Playwright package; Playwright's own browser
downloads are never used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@dataclass
class Session:
    page: Page
    base_url: str
    errors: list[str] = field(default_factory=list)

    def open_etl_express(self) -> None:
        self.page.goto(f"{self.base_url}/plugin/etl-express")
        self.page.get_by_test_id("etl-express-page").wait_for(timeout=60_000)


@contextmanager
def logged_in(
    base_url: str, username: str, password: str, *, color_scheme: str = "light"
) -> Iterator[Session]:
    if not CHROMIUM.exists():
        raise RuntimeError("Debian's Chromium is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 1400, "height": 1000},
                color_scheme=color_scheme,  # type: ignore[arg-type]
            )
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{base_url}/auth/login/")
            page.fill("#username", username)
            page.fill("#password", password)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url(lambda url: "/auth/login" not in url, timeout=60_000)
            session = Session(page, base_url)
            # Errors of the Airflow app and of our page from here on (not of the login form).
            page.on("pageerror", lambda exc: session.errors.append(str(exc)))
            yield session
        finally:
            browser.close()
