"""Browser tests: Playwright (pytest-playwright's `page`) driving Debian's Chromium against
pytest-django's live server.

Playwright's sync API keeps an asyncio loop marked as running in the test's thread while it is
started, and Django refuses ORM calls then (SynchronousOnlyOperation) unless
DJANGO_ALLOW_ASYNC_UNSAFE is set. So Playwright lives for one module here, not for the whole
session as pytest-playwright's own fixtures would have it, and the variable is set only while
it does: every other test of the run keeps Django's check.

No browser is downloaded: Chromium comes from apt (`apt-get install chromium fonts-noto-cjk`,
see .ci/run). Without it these tests fail; they never skip.
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Playwright, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": ["--no-sandbox"],
    }


@pytest.fixture(scope="module")
def _orm_allowed_beside_playwright() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def playwright(_orm_allowed_beside_playwright: None) -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    with sync_playwright() as started:
        yield started
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    pytest.fail("Playwright left an event loop running: Django would refuse the ORM after it.")


@pytest.fixture(scope="module")
def browser(playwright: Playwright, browser_type_launch_args: dict) -> Iterator[Browser]:
    launched = playwright.chromium.launch(**browser_type_launch_args)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def browser_context_args() -> dict:
    """A phone, in English unless a test says otherwise."""
    return {**PHONE, "locale": "en-US"}


@pytest.fixture
def screenshot_dir() -> Path:
    """var/screenshots (VAR_DIR's when set): CI keeps it as an artefact."""
    folder = Path(getattr(settings, "VAR_DIR", settings.BASE_DIR / "var")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
