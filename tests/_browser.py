"""Headless Debian Chromium for the map tests (Selenium + /usr/bin/chromedriver).

No browser or driver is downloaded: Selenium is given both paths, so Selenium
Manager never runs. The network is cut off three ways: Chrome DevTools' offline
emulation, a dead proxy for every host, and a host resolver that resolves nothing;
every request the page starts is still recorded from the DevTools performance log.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--disable-extensions", "--disable-default-apps",
         "--no-default-browser-check", "--mute-audio", "--hide-scrollbars",
         "--allow-file-access-from-files"]
OFFLINE_FLAGS = ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                 "--host-resolver-rules=MAP * ~NOTFOUND"]


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return (f"{CHROMIUM} or {CHROMEDRIVER} missing: run bash tools/install_browser.sh "
                "(apt-get install chromium chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[test]'"
    return None


def require_browser() -> None:
    """Skip without Chromium, or fail under CI (``CI=true``): there the browser tests
    must run."""
    import pytest

    why = browser_missing()
    if why:
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(f"CI: the browser tests must run: {why}")
        pytest.skip(why)


@contextmanager
def chromium(*, offline: bool = True, width: int = 1400, height: int = 900):
    """A headless Chromium WebDriver; with ``offline`` the network is unreachable."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="parksite-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for f in FLAGS + (OFFLINE_FLAGS if offline else []):
        opts.add_argument(f)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.add_argument(f"--window-size={width},{height}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=opts, service=service)
    try:
        driver.set_page_load_timeout(60)
        driver.execute_cdp_cmd("Network.enable", {})
        if offline:
            driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
                "offline": True, "latency": 0, "downloadThroughput": -1,
                "uploadThroughput": -1})
        yield driver
    finally:
        try:
            driver.quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)


def requested_urls(driver) -> list[str]:
    """URLs of every request the page started since the last call (DevTools log)."""
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def open_map(driver, path: Path, *, timeout: float = 60.0) -> float:
    """Load a map from file:// and wait for ``window.parksite.ready``; seconds taken."""
    t0 = time.perf_counter()
    driver.get(Path(path).resolve().as_uri())
    while time.perf_counter() - t0 < timeout:
        if driver.execute_script("return !!(window.parksite && window.parksite.ready)"):
            return time.perf_counter() - t0
        time.sleep(0.05)
    raise AssertionError(f"{path}: the map did not get ready within {timeout:.0f} s")


def screenshot_dir() -> Path:
    root = Path(__file__).resolve().parent.parent
    d = Path(os.environ.get("PARKSITE_SCREENSHOTS", root / "maps" / "screenshots"))
    d.mkdir(parents=True, exist_ok=True)
    return d
