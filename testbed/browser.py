"""Debian's Chromium driven through chromium-driver (Selenium), for the pages' tests and the
web benchmark: headless, the system's browser and driver, nothing downloaded."""

from __future__ import annotations

import shutil
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def start_chromium(size: tuple[int, int] = (1366, 900)) -> Any:
    """A headless Chromium (a `selenium.webdriver.Chrome`); `quit()` it when done."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if CHROMIUM is None or CHROMEDRIVER is None:
        raise RuntimeError("apt-get install chromium chromium-driver (make system installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", "--lang=vi", "--hide-scrollbars"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # for page_errors()
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(10)
    driver.set_window_size(*size)
    return driver


def page_errors(driver: Any) -> list[str]:
    """What the pages logged as errors since the last call (script errors, refused loads)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
