"""Headless Chromium (Debian's chromium + chromium-driver) driven by Selenium, for the page tests.

Never downloads a browser: it uses /usr/bin/chromium and /usr/bin/chromedriver (or the ones on
PATH) and skips with the reason when they are absent.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest

CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1400,900",
)


def find_browser() -> tuple[str, str] | None:
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chrome, driver) if chrome and driver else None


def start_browser(user_data_dir: Path):
    """A Selenium Chrome driver on the system Chromium, or pytest.skip with the reason."""
    found = find_browser()
    if found is None:
        pytest.skip("chromium and chromedriver not found (apt-get install chromium chromium-driver; .ci/run does)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[dev]')")
    chrome, driver = found
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={user_data_dir}")
    return webdriver.Chrome(service=Service(executable_path=driver), options=opts)


def wait_idle(browser, timeout: float = 20.0) -> None:
    """Until the page has loaded a row and its key queue is empty."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ok = browser.execute_script(
            "return !!(window.inspect && window.inspect.ready && window.inspect.pending === 0)")
        if ok:
            return
        time.sleep(0.05)
    state = browser.execute_script("return window.inspect ? {pos: inspect.pos, ready: inspect.ready, "
                                   "pending: inspect.pending, err: inspect.lastError} : null")
    raise AssertionError(f"page did not settle within {timeout} s: {state}")


def press(browser, keys: str) -> None:
    """Type keys into whatever has focus, as a person would (Selenium adds Shift for capitals),
    then wait until the page is idle."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys(keys).perform()
    wait_idle(browser)


def fresh_profile() -> Path:
    return Path(tempfile.mkdtemp(prefix="spectype-chromium-"))
