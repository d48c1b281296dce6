"""Shared fixtures: the built website (once per session), a local server, headless Chromium."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import ROOT, in_ci  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """Build the book with warnings as errors into a temporary folder; its ``_build/html``."""
    out = tmp_path_factory.mktemp("site")
    jb = Path(sys.executable).parent / "jupyter-book"
    r = subprocess.run(
        [str(jb), "build", str(ROOT), "--warningiserror", "--keep-going", "--path-output", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, "jupyter-book build -W failed:\n" + r.stdout[-4000:] + r.stderr[-4000:]
    html = out / "_build" / "html"
    assert (html / "index.html").exists()
    return html


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


def serve(folder: Path):
    """Serve ``folder`` on 127.0.0.1; returns (base URL, server)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}", httpd


@pytest.fixture(scope="session")
def server(site):
    url, httpd = serve(site)
    yield url
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium; it may not skip in CI (``make system-deps`` installs it)."""
    if not (CHROMIUM and CHROMEDRIVER):
        if in_ci():
            pytest.fail("chromium and chromedriver must be installed in CI (make system-deps)")
        pytest.skip("chromium/chromedriver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1366,900",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    os.environ.setdefault("SE_AVOID_STATS", "true")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()

# The grader's fixture notebooks (tests/fixtures/00_*.ipynb) are graded by tests, not run by nbval.
collect_ignore_glob = ["fixtures/*"]
