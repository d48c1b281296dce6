"""The website: a strict (-W) build, then every page opened in headless Chromium.

The browser test visits every HTML page of the built site, served from
127.0.0.1, and requires: no JavaScript error in the console, every image
loaded, every formula typeset by MathJax, and no request to another host (the
book must read offline).  It may not skip in CI; elsewhere it skips when
Chromium or its driver is not installed.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from helpers import ROOT, in_ci

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """Build the book with warnings as errors into a temporary folder."""
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


def toc_files() -> list[str]:
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for ch in part.get("chapters", []):
            files.append(ch["file"])
            files += [s["file"] for s in ch.get("sections", [])]
    return files


def test_every_notebook_is_in_the_toc():
    listed = set(toc_files())
    for folder in ("chapters", "exercises", "solutions"):
        for nb in (ROOT / folder).glob("*.ipynb"):
            assert f"{folder}/{nb.stem}" in listed, f"{folder}/{nb.name} is not in _toc.yml"


def test_every_toc_entry_has_a_page(site):
    for f in toc_files():
        assert (site / f"{f}.html").exists(), f"no page for {f}"


def test_no_page_loads_from_another_host(site):
    import re

    pattern = re.compile(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=\"(https?:)?//", re.I)
    for page in site.rglob("*.html"):
        text = page.read_text(errors="replace")
        m = pattern.search(text)
        assert not m, f"{page.relative_to(site)} loads {m.group(0)}"
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists()


def test_notebooks_can_be_downloaded(site):
    for f in toc_files():
        if (ROOT / f"{f}.ipynb").exists():
            assert (site / "_sources" / f"{f}.ipynb").exists(), f"no .ipynb download for {f}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="session")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser():
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
        "--window-size=1280,900",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    os.environ.setdefault("SE_AVOID_STATS", "true")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


WAIT_FOR_MATH = """
const done = arguments[arguments.length - 1];
const nodes = document.querySelectorAll('.math');
if (nodes.length === 0) { done({math: 0, typeset: 0}); return; }
const count = () => document.querySelectorAll('mjx-container').length;
const started = Date.now();
(function poll() {
  const ready = window.MathJax && MathJax.startup && MathJax.startup.promise;
  const finish = () => done({math: nodes.length, typeset: count(), errors: document.querySelectorAll('mjx-merror').length});
  if (ready) { MathJax.startup.promise.then(finish); }
  else if (Date.now() - started > 20000) { finish(); }
  else { setTimeout(poll, 100); }
})();
"""

PAGE_FACTS = """
const imgs = Array.from(document.images);
return {
  broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
  images: imgs.length,
  resources: performance.getEntriesByType('resource').map(e => e.name),
};
"""


def test_every_page_in_a_browser(site, server, browser):
    browser.set_script_timeout(30)
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    pages = [p for p in pages if not p.startswith("_")]
    assert len(pages) >= 5
    typeset_pages = 0
    for page in pages:
        browser.get(f"{server}/{page}")
        math = browser.execute_async_script(WAIT_FOR_MATH)
        facts = browser.execute_script(PAGE_FACTS)
        logs = browser.get_log("browser")
        errors = [e["message"] for e in logs if e["level"] == "SEVERE"]
        assert not errors, f"{page}: JavaScript errors: {errors}"
        assert not facts["broken"], f"{page}: images that did not load: {facts['broken']}"
        hosts = {urlparse(u).hostname for u in facts["resources"]} - {"127.0.0.1", None}
        assert not hosts, f"{page}: requests to other hosts: {sorted(hosts)}"
        if math["math"]:
            assert math["typeset"] >= math["math"], f"{page}: {math['math']} formulas, {math['typeset']} typeset"
            assert math.get("errors", 0) == 0, f"{page}: MathJax errors"
            typeset_pages += 1
    assert typeset_pages >= 2, "no page had typeset math"
