"""HTML → PDF with WeasyPrint, from a plain-dict context and a locked-down URL fetcher.

Only two kinds of URL can be fetched while rendering: ``data:`` URIs and
``monev-asset:<path>`` for the files under ``static/fonts/`` and ``static/img/`` bundled with
the app. Everything else (``file:``, ``http(s):``, …) is refused, so a value that slipped into
a template cannot read the server's files or reach the network. Templates get plain values
only (strings, numbers, lists and dicts), never ORM objects.
"""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path

from flask import current_app, render_template
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

ASSET_SCHEME = "monev-asset:"
ASSET_FOLDERS = ("fonts", "img")


class RefusedURL(ValueError):
    """A URL the certificate renderer does not fetch."""


def asset_path(url: str) -> Path:
    """The bundled file named by a ``monev-asset:`` URL; refuses anything outside the folders."""
    name = url[len(ASSET_SCHEME) :]
    static = Path(current_app.static_folder).resolve()
    path = (static / name).resolve()
    allowed = [static / folder for folder in ASSET_FOLDERS]
    if not any(path.is_relative_to(folder) for folder in allowed) or not path.is_file():
        raise RefusedURL(f"not a bundled asset: {url}")
    return path


class LockedFetcher(URLFetcher):
    """Serves ``data:`` URIs and bundled assets; refuses every other URL."""

    def __init__(self):
        super().__init__(allowed_protocols={"data"}, allow_redirects=False)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if url.startswith(ASSET_SCHEME):
            try:
                path = asset_path(url)
            except RefusedURL:
                self.refused.append(url)
                raise
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if path.suffix == ".woff2":
                kind = "font/woff2"
            return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": kind})
        if url.startswith("data:"):
            return super().fetch(url, headers)
        self.refused.append(url)
        raise RefusedURL(f"refused URL: {url}")


def data_uri(content: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


def html_to_pdf(html: str, fetcher: LockedFetcher | None = None) -> bytes:
    fetcher = fetcher or LockedFetcher()
    # No base URL: relative URLs resolve to nothing (never to the working directory).
    document = HTML(string=html, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[CSS(string="", url_fetcher=fetcher)])


def render_pdf(template: str, context: dict) -> bytes:
    """The PDF of ``template`` rendered with ``context`` (plain values only)."""
    _check_plain(context)
    return html_to_pdf(render_template(template, **context))


def render_merged_pdf(template: str, contexts: list[dict]) -> bytes:
    """One PDF with the pages of ``template`` rendered for each context, in order."""
    documents = []
    for context in contexts:
        _check_plain(context)
        html = HTML(string=render_template(template, **context), url_fetcher=LockedFetcher())
        documents.append(html.render())
    if not documents:
        raise ValueError("nothing to merge")
    pages = [page for document in documents for page in document.pages]
    return documents[0].copy(pages).write_pdf()


def _check_plain(value, path: str = "context") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, f"{path}[{i}]")
    elif not (value is None or isinstance(value, (str, int, float, bool))):
        raise TypeError(f"{path} is a {type(value).__name__}; pass plain values to templates")
