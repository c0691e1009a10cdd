"""An accessibility smoke check for a UI page in the browser (imported by the page tests).

Not a full audit: it fails on what a keyboard or screen-reader user would hit first. Every
visible form control has a label (``<label for>``, a wrapping ``<label>`` or ``aria-label``),
the page has exactly one ``<main>`` and one ``<h1>``, and the first Tab stop gets a visible
focus indicator (an outline) and is the "Skip to content" link.
"""

from __future__ import annotations

from typing import Any

_UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby'))
  .map(e => e.outerHTML.slice(0, 120))"""
_FOCUS = """() => { const e = document.activeElement; const s = getComputedStyle(e);
  return {tag: e.tagName, text: (e.textContent || '').trim(), style: s.outlineStyle,
          width: parseFloat(s.outlineWidth)}; }"""


def check_page(page: Any) -> None:
    """Assert the smoke checks on the page loaded in ``page``."""
    unlabelled = page.evaluate(_UNLABELLED)
    assert unlabelled == [], f"{page.url}: inputs without a label: {unlabelled}"
    assert page.locator("main").count() == 1, f"{page.url}: not exactly one <main>"
    assert page.locator("h1").count() == 1, f"{page.url}: not exactly one <h1>"
    title = page.title()  # what a screen reader announces first, and the tab's label
    assert title.endswith(" · Blocks") and "<" not in title and len(title) < 120, \
        f"{page.url}: the page title is not a short text: {title[:200]!r}"
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")
    focused = page.evaluate(_FOCUS)
    assert focused["tag"] == "A" and focused["text"] == "Skip to content", focused
    assert focused["style"] != "none" and focused["width"] >= 2, \
        f"{page.url}: the focused element has no visible outline: {focused}"
