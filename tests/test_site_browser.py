"""The website in headless Chromium, at a phone's size (390 x 844) and a laptop's (1366 x 900).

Each test opens pages of the built site served from 127.0.0.1.  They need
Chromium and its driver; in CI they may not skip (``make system-deps``).
What they require: no JavaScript error and no request to another host; the
menu and page-contents buttons work at both widths with one search box; no
page scrolls sideways on a phone and no formula is wider than its column;
every figure has a caption, descriptive alt text and twice the pixels it is
shown at; axe-core finds no serious or critical violation; the colour mode
follows the system's.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from helpers import ROOT

PHONE = (390, 844)
LAPTOP = (1366, 900)
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def all_pages(site: Path) -> list[str]:
    names = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    return [n for n in names if not n.startswith("_") and n not in ("genindex.html", "search.html")]


def open_page(browser, url: str, size: tuple[int, int]) -> None:
    browser.set_window_rect(0, 0, *size)
    browser.get(url)
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "if (document.readyState === 'complete') done(); else window.addEventListener('load', () => done());"
    )


VISIBLE = """
return Array.from(document.querySelectorAll(arguments[0]))
  .filter(e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden').length;
"""
TAP = """
const b = Array.from(document.querySelectorAll(arguments[0]))
  .filter(e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden')[0];
if (!b) return false;
b.click();
return true;
"""

PAGE_FACTS = """
const doc = document.documentElement;
const imgs = Array.from(document.images);
const wide = [];
document.querySelectorAll('div.math').forEach(box => {
  const svg = box.querySelector('mjx-container > svg');
  if (svg && svg.getBoundingClientRect().width > box.clientWidth + 1) {
    wide.push(Math.round(svg.getBoundingClientRect().width) + 'px in ' + box.clientWidth + 'px');
  }
});
return {
  scroll: doc.scrollWidth, width: doc.clientWidth, wide: wide,
  broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
  resources: performance.getEntriesByType('resource').map(e => e.name),
  figures: Array.from(document.querySelectorAll('article img')).map(i => ({
    src: i.getAttribute('src'), alt: i.getAttribute('alt') || '',
    shown: i.getBoundingClientRect().width, natural: i.naturalWidth,
    caption: !!(i.closest('figure') && i.closest('figure').querySelector('figcaption .caption-number')),
  })),
};
"""


def test_every_page_at_phone_and_laptop_width(site, server, browser):
    """No errors, nothing from other hosts, no sideways scrolling, formulas inside their column."""
    pages = all_pages(site)
    assert len(pages) >= 30
    for size in (PHONE, LAPTOP):
        for page in pages:
            open_page(browser, f"{server}/{page}", size)
            facts = browser.execute_script(PAGE_FACTS)
            errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
            where = f"{page} at {size[0]} px"
            assert not errors, f"{where}: JavaScript errors: {errors}"
            assert not facts["broken"], f"{where}: images that did not load: {facts['broken']}"
            hosts = {urlparse(u).hostname for u in facts["resources"]} - {"127.0.0.1", None}
            assert not hosts, f"{where}: requests to other hosts: {sorted(hosts)}"
            assert facts["scroll"] <= facts["width"], f"{where}: the page scrolls sideways ({facts['scroll']} px)"
            assert not facts["wide"], f"{where}: formulas wider than the column: {facts['wide']}"


def test_figures_have_captions_alt_text_and_twice_the_pixels(site, server, browser):
    figures = 0
    for page in sorted((site / "chapters").glob("*.html")):
        open_page(browser, f"{server}/chapters/{page.name}", LAPTOP)
        for fig in browser.execute_script(PAGE_FACTS)["figures"]:
            where = f"{page.name}: {fig['src']}"
            alt = fig["alt"]
            assert len(alt) >= 25 and "/" not in alt and not alt.endswith(".png"), f"{where}: alt text {alt!r}"
            assert fig["caption"], f"{where}: no numbered caption"
            assert fig["natural"] >= 2 * fig["shown"] - 2, f"{where}: {fig['natural']} px shown at {fig['shown']:.0f}"
            figures += 1
    assert figures >= 15, f"only {figures} figures in the chapters"


def test_phone_navigation(server, browser):
    """At 390 px the menu opens the chapter list and the contents button the page's sections."""
    url = f"{server}/chapters/03_bptt.html"
    open_page(browser, url, PHONE)
    assert browser.execute_script(VISIBLE, ".search-button, .search-button-field") == 1, "not one search box"
    assert browser.execute_script(TAP, ".primary-toggle"), "no visible menu button"
    time.sleep(0.3)
    links = browser.execute_script(
        "const d = document.getElementById('pst-primary-sidebar-modal');"
        "return d && d.open ? Array.from(d.querySelectorAll('a.reference')).filter(a => a.getClientRects().length).length : -1"
    )
    assert links >= 10, f"the menu did not open the chapter list ({links} links shown)"
    open_page(browser, url, PHONE)
    assert browser.execute_script(TAP, ".secondary-toggle"), "no visible page-contents button"
    time.sleep(0.3)
    sections = browser.execute_script(
        "const d = document.getElementById('pst-secondary-sidebar-modal');"
        "return d && d.open ? d.querySelectorAll('a.nav-link').length : -1"
    )
    assert sections >= 3, f"the contents button did not open the page's sections ({sections})"


def test_laptop_navigation(server, browser):
    """At 1366 px the menu button collapses the sidebar and gives the text the room."""
    open_page(browser, f"{server}/chapters/03_bptt.html", LAPTOP)
    assert browser.execute_script(VISIBLE, ".search-button, .search-button-field") == 1, "not one search box"
    sidebar = "return getComputedStyle(document.getElementById('pst-primary-sidebar')).visibility"
    main = "return document.querySelector('.bd-main').getBoundingClientRect().left"
    assert browser.execute_script(sidebar) == "visible"
    left = browser.execute_script(main)
    assert browser.execute_script(TAP, ".primary-toggle"), "no visible menu button"
    time.sleep(1.0)  # the theme animates the collapse
    assert browser.execute_script(sidebar) == "hidden", "the menu button did not collapse the sidebar"
    assert browser.execute_script(main) < left - 100, "the text did not move into the sidebar's room"


def test_colour_mode_follows_the_system(server, browser):
    url = f"{server}/chapters/01_sequences.html"
    for scheme in ("dark", "light"):
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
        open_page(browser, url, LAPTOP)
        browser.execute_script("localStorage.clear()")
        open_page(browser, url, LAPTOP)
        mode = browser.execute_script("return document.documentElement.dataset.theme")
        assert mode == scheme, f"system prefers {scheme}, the page shows {mode}"
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 2).map(n => n.target.join(' ')).join('; '))));
"""


def test_accessibility_axe(site, server, browser):
    """axe-core (npm, in node_modules): no serious or critical violation on any page, at either width."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make install` runs `npm ci`")
    script = AXE.read_text(encoding="utf-8")
    for size in (LAPTOP, PHONE):
        for page in all_pages(site):
            open_page(browser, f"{server}/{page}", size)
            browser.execute_script(script)
            violations = browser.execute_async_script(AXE_RUN)
            assert not violations, f"{page} at {size[0]} px: {violations}"
