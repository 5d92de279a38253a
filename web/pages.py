"""The pages' HTML, from files in `web/pages/`, with `{{name}}` filled in (escaped).

Pages carry no inline script or style: the Content-Security-Policy allows only what the
hub serves, so nothing on a page can load from outside the centre.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path

from aiohttp import web

PAGES = Path(__file__).with_name("pages")
STATIC = Path(__file__).with_name("static")
_SLOT = re.compile(r"\{\{(\w+)\}\}")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",  # a ticket's token never leaves in a Referer
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


@lru_cache(maxsize=32)
def _template(name: str) -> str:
    """A page: the head every page shares (`_head.html`), the page's own file, the shared end."""
    parts = ("_head", name, "_foot")
    return "".join((PAGES / f"{part}.html").read_text(encoding="utf-8") for part in parts)


def _fill(name: str, values: dict[str, str]) -> str:
    """A slot named `…_html` takes markup the caller built from checked names; any other is text."""
    value = values.get(name, "")
    return value if name.endswith("_html") else html.escape(value, quote=True)


def render(name: str, status: int = 200, **values: str) -> web.Response:
    text = _SLOT.sub(lambda m: _fill(m[1], values), _template(name))
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


def message(status: int, vi: str, en: str) -> web.Response:
    """A short bilingual page for refusals and errors."""
    return render("message", status, vi=vi, en=en)
