"""The anchors of an HTML page: the one piece of HTML parsing index pages need.

It lives apart from :mod:`resolvent.index.pages` so that ``html.parser`` (and
``html.entities``) load only when an HTML page is actually read; JSON pages, the
common case, never pay for them.
"""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["AnchorParser"]


class AnchorParser(HTMLParser):
    """Collects the attributes of every ``<a>``, the first ``<base href>`` and PEP 629 meta."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str | None]] = []
        self.base: str | None = None
        self.api_version: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record an anchor, the first base URL, or the PEP 629 version, as met."""
        attributes = dict(attrs)
        if tag == "a":
            self.anchors.append(attributes)
        elif tag == "base" and self.base is None and attributes.get("href"):
            self.base = attributes["href"]
        elif tag == "meta" and attributes.get("name") == "pypi:repository-version":
            self.api_version = attributes.get("content")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Treat ``<a ... />`` and ``<base ... />`` like their open tags."""
        self.handle_starttag(tag, attrs)
