"""A real headless Chromium for the page tests (selenium + Debian's chromium-driver).

Skips when chromium, chromedriver or selenium is absent (CI installs them:
``apt-get install -y chromium chromium-driver``; selenium comes with the test extra). Web Audio
runs in headless Chromium without any audio device; ``--autoplay-policy=no-user-gesture-required``
lets an AudioContext start without a click.
"""

from __future__ import annotations

import os
import shutil

import pytest


def _find(*names):
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def start_browser():
    """A selenium Chrome driver on headless Chromium that keeps the page's console log."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    from selenium.webdriver.chrome.service import Service

    chromium = os.environ.get("SOUNDSTAGE_CHROMIUM") or _find("chromium", "chromium-browser", "google-chrome")
    driver_path = os.environ.get("SOUNDSTAGE_CHROMEDRIVER") or _find("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("headless browser tests need chromium and chromedriver (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--autoplay-policy=no-user-gesture-required", "--window-size=1200,1600"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_script_timeout(60)
    return driver


def severe_console_entries(driver) -> list:
    """The page's console errors since the last call."""
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
