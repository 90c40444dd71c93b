"""Injection payloads and the checks that say whether a rendered page shows them as text.

One place for what the security suite types into every field, so the layers, the
pages, the PDFs and the browser test all try the same things:

* HTML that runs script when it is parsed as markup (``<img onerror>``, ``<svg onload>``),
* a ``</script>`` that would end the ``<script>`` block holding a JSON literal,
* a ``javascript:`` URL (harmless as text, dangerous in ``href``/``src``),
* ``{{7*7}}``: a template engine (Jinja) or ``str.format`` fed user text changes it (``49``, ``{7*7}``).

The checks read a page the way a browser would: the raw HTML for markup that breaks
out (event-handler attributes, extra script blocks, ``javascript:`` links), and the
HTML with its JSON string escapes decoded for text that would reach ``innerHTML``
(a tooltip or popup) without HTML escaping.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(2)</script>"
SVG = '"><svg onload=alert(3)>'
JS_URL = "javascript:alert(4)"
TEMPLATE = "{{7*7}}"
#: Payloads that are markup: they must never reach a page unescaped.
MARKUP = (IMG, SCRIPT, SVG)
PAYLOADS = (*MARKUP, JS_URL, TEMPLATE)
#: Every payload in one value (115 characters: fits the 200-character name columns).
PAYLOAD = " ".join(PAYLOADS)
#: Markdown that Streamlit would turn into a remote image and a link: user text shown in markdown must not be.
MD_IMAGE = "![x](http://192.0.2.7/t.png)"
MD_LINK = "[clic](javascript:alert(5))"

_JS_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
#: HTML character references of braces (a layer may encode them to keep Jinja from reading user text).
_OPEN_BRACE = re.compile(r"&(?:#0*123|#x0*7b|lbrace|lcub);", re.I)
_CLOSE_BRACE = re.compile(r"&(?:#0*125|#x0*7d|rbrace|rcub);", re.I)
_JS_URL_ATTR = re.compile(r"""(?:href|src|action|formaction|xlink:href|data)\s*=\s*["']?\s*javascript:""", re.I)
_URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "background", "poster"}


def decode_js(text: str) -> str:
    """``text`` with JSON's ``\\uXXXX`` escapes decoded: what a script hands to ``innerHTML``."""
    return _JS_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def decoded(page: str) -> str:
    """:func:`decode_js` plus brace character references read back as braces (both show ``{`` to users)."""
    return _CLOSE_BRACE.sub("}", _OPEN_BRACE.sub("{", decode_js(page)))


class _Markup(HTMLParser):
    """Elements, attributes and script bodies of a page, as a browser's tokenizer splits them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.handlers: list[str] = []
        self.js_urls: list[str] = []
        self.scripts: list[str] = []
        self.tags: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") and "alert(" in value:
                self.handlers.append(f"<{tag} {name}={value!r}>")
            if name in _URL_ATTRS and re.sub(r"[\x00-\x20]", "", value).lower().startswith("javascript:"):
                self.js_urls.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def markup_problems(page: str) -> list[str]:
    """Ways in which ``page`` (raw HTML) lets a payload act: handlers, ``javascript:`` URLs, broken-out scripts."""
    parser = _Markup()
    parser.feed(page)
    parser.close()
    problems = [f"event handler from user text: {h}" for h in parser.handlers]
    problems += [f"javascript: URL in an attribute: {u}" for u in parser.js_urls]
    problems += [f"a script block starts with user code: {s.strip()[:60]!r}" for s in parser.scripts
                 if s.strip().startswith("alert(")]
    problems += [f"user markup became a <{tag}> element" for tag in ("img", "svg") if tag in parser.tags]
    return problems


def assert_page_safe(page: str, *, expect: tuple[str, ...] = PAYLOADS, where: str = "page") -> None:
    """Fail unless every payload in ``expect`` is in ``page`` as escaped text and none can act.

    Checks, in order: no markup breaks out of the raw HTML; once JSON escapes are decoded no
    payload appears as markup (it would reach ``innerHTML`` raw); each one does appear HTML-escaped
    exactly once over (shown as typed, neither dropped nor escaped twice); ``{{7*7}}`` is intact.
    """
    problems = markup_problems(page)
    assert not problems, f"{where}: " + "; ".join(problems)
    text = decoded(page)
    assert not _JS_URL_ATTR.search(text), f"{where}: javascript: URL in an attribute"
    if TEMPLATE in expect:
        assert TEMPLATE in text, (
            f"{where}: {TEMPLATE!r} is not shown as typed: user text was evaluated as a Jinja template on the "
            "server (branca's MacroElement.render compiles each rendered macro again) or went through str.format")
        assert "{7*7}" not in text.replace(TEMPLATE, ""), \
            f"{where}: {TEMPLATE!r} lost a brace pair somewhere (user text went through str.format)"
    for payload in expect:
        if payload in MARKUP:
            assert payload not in text, f"{where}: {payload!r} is not escaped (it would run in a tooltip/popup)"
        escaped = html.escape(payload, quote=True)
        assert escaped in text, f"{where}: {payload!r} is missing (expected it escaped as {escaped!r})"
        if escaped != payload:
            twice = html.escape(escaped, quote=True)
            assert twice not in text, f"{where}: {payload!r} is escaped twice (users would see {escaped!r})"
