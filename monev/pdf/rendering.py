"""HTML → PDF with WeasyPrint, from a plain-dict context and a locked-down URL fetcher.

Only two kinds of URL can be fetched while rendering: ``data:`` URIs and
``monev-asset:<path>`` for the files under ``static/fonts/`` and ``static/img/`` bundled with
the app. Everything else (``file:``, ``http(s):``, …) is refused, so a value that slipped into
a template cannot read the server's files or reach the network. Templates get plain values
only (strings, numbers, lists and dicts), never ORM objects.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import mimetypes
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from flask import current_app, render_template
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

ASSET_SCHEME = "monev-asset:"
ASSET_FOLDERS = ("fonts", "img")


class RefusedURL(ValueError):
    """A URL the certificate renderer does not fetch."""


def asset_path(url: str, static_folder: str | None = None) -> Path:
    """The bundled file named by a ``monev-asset:`` URL; refuses anything outside the folders."""
    name = url[len(ASSET_SCHEME) :]
    static = Path(static_folder or current_app.static_folder).resolve()
    path = (static / name).resolve()
    allowed = [static / folder for folder in ASSET_FOLDERS]
    if not any(path.is_relative_to(folder) for folder in allowed) or not path.is_file():
        raise RefusedURL(f"not a bundled asset: {url}")
    return path


class LockedFetcher(URLFetcher):
    """Serves ``data:`` URIs and bundled assets; refuses every other URL."""

    def __init__(self, static_folder: str | None = None):
        super().__init__(allowed_protocols={"data"}, allow_redirects=False)
        self.refused: list[str] = []
        self.static_folder = static_folder  # None: the current app's

    def fetch(self, url, headers=None):
        if url.startswith(ASSET_SCHEME):
            try:
                path = asset_path(url, self.static_folder)
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


# --- layered documents ------------------------------------------------------------------------
#
# A certificate template draws two layers on one fixed geometry: ``layer="bg"`` (the design,
# identical on every certificate of a kind) and ``layer="fg"`` (what differs, one page per
# item of ``pages``). The design is rendered once and cached; the changing parts of many
# certificates are laid out in one WeasyPrint document; pikepdf then puts the design under
# every page as one shared form XObject. Measured in bench/certificates.py.

_DESIGNS: OrderedDict[str, bytes] = OrderedDict()
_DESIGNS_LOCK = threading.Lock()
_DESIGNS_MAX = 16


def _design_pdf(template: str, design: dict) -> bytes:
    key = hashlib.sha256(
        (template + json.dumps(design, sort_keys=True, default=str)).encode("utf-8")
    ).hexdigest()
    with _DESIGNS_LOCK:
        if key in _DESIGNS:
            _DESIGNS.move_to_end(key)
            return _DESIGNS[key]
    content = html_to_pdf(render_template(template, layer="bg", pages=[{}], **design))
    with _DESIGNS_LOCK:
        _DESIGNS[key] = content
        while len(_DESIGNS) > _DESIGNS_MAX:
            _DESIGNS.popitem(last=False)
    return content


def render_layered(
    template: str, design: dict, pages: list[dict], marks: list[bytes] | None = None
) -> pikepdf.Pdf:
    """A PDF with one page per item of ``pages``: its own layer over the shared design, and
    ``marks[i]`` (PDF content operators, e.g. a QR code) drawn on top of page ``i``."""
    job = layered_job(template, design, pages, marks)
    return _compose(job)


@dataclass(frozen=True)
class LayeredJob:
    """Everything needed to make a run of layered pages, as plain data: it can be sent to
    another process, which needs neither Flask nor the database to render it."""

    static_folder: str
    design_pdf: bytes
    foreground_html: str
    marks: tuple[bytes, ...]
    titles: tuple[str, ...]


def layered_job(
    template: str, design: dict, pages: list[dict], marks: list[bytes] | None = None
) -> LayeredJob:
    if not pages:
        raise ValueError("nothing to render")
    _check_plain(design, "design")
    _check_plain(pages, "pages")
    return LayeredJob(
        static_folder=str(current_app.static_folder),
        design_pdf=_design_pdf(template, design),
        foreground_html=render_template(template, layer="fg", pages=pages, **design),
        marks=tuple(marks or ()),
        titles=tuple(str(page.get("number") or "") for page in pages),
    )


def _compose(job: LayeredJob) -> pikepdf.Pdf:
    background = pikepdf.open(io.BytesIO(job.design_pdf))
    fetcher = LockedFetcher(job.static_folder)
    foreground = pikepdf.open(io.BytesIO(html_to_pdf(job.foreground_html, fetcher)))
    if len(foreground.pages) != len(job.titles):  # an overflow: the layers would not match
        raise RuntimeError(f"{len(job.titles)} items laid out on {len(foreground.pages)} pages")
    form = foreground.copy_foreign(background.pages[0].as_form_xobject())
    for index, page in enumerate(foreground.pages):
        # WeasyPrint leaves its coordinate transform in place: isolate its drawing first.
        page.contents_add(pikepdf.Stream(foreground, b"q"), prepend=True)
        page.contents_add(pikepdf.Stream(foreground, b"Q"), prepend=False)
        page.add_underlay(form, pikepdf.Rectangle(page.mediabox))
        if job.marks:
            page.contents_add(pikepdf.Stream(foreground, job.marks[index]), prepend=False)
    background.close()
    return foreground


def render_singles(job: LayeredJob) -> list[bytes]:
    """One PDF per page of ``job``. Runs anywhere: no Flask, no database."""
    document = _compose(job)
    try:
        return split_pages(document, list(job.titles))
    finally:
        document.close()


_POOLS: dict[int, object] = {}
_POOLS_LOCK = threading.Lock()


def _pool(processes: int):
    """A pool of ``processes`` worker processes, started once per process and reused
    (``shutdown_pools`` stops them). "spawn": the workers start fresh, inheriting nothing
    from a threaded server."""
    import atexit
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with _POOLS_LOCK:
        if processes not in _POOLS:
            context = multiprocessing.get_context("spawn")
            _POOLS[processes] = ProcessPoolExecutor(processes, mp_context=context)
            atexit.register(shutdown_pools)
        return _POOLS[processes]


def worker_pool(processes: int):
    """The pool of ``processes`` worker processes the rendering uses (for other CPU-bound
    work of a batch step, such as signing the PDFs it rendered)."""
    return _pool(processes)


def shutdown_pools() -> None:
    """Stop the rendering worker processes (a process that forked and ends with os._exit,
    such as a worker of another pool, must call this: atexit does not run there)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


def render_document(job: LayeredJob) -> bytes:
    """All pages of ``job`` as one PDF (the design stored once). Runs in a worker process."""
    document = _compose(job)
    try:
        return pdf_bytes(document)
    finally:
        document.close()


def render_many(jobs: list[LayeredJob], processes: int = 1) -> list[list[bytes]]:
    """``render_singles`` of each job, in order. With ``processes`` > 1 the worker processes
    lay out and compose the pages and send back one compact PDF per job (the design once, not
    once per page), which is split here (a broken pool is dropped, the jobs rendered here)."""
    if processes <= 1 or len(jobs) < 2:
        return [render_singles(job) for job in jobs]
    from concurrent.futures.process import BrokenProcessPool

    try:
        documents = list(_pool(processes).map(render_document, jobs))
    except BrokenProcessPool:
        with _POOLS_LOCK:
            _POOLS.pop(processes, None)
        return [render_singles(job) for job in jobs]
    out = []
    for job, content in zip(jobs, documents, strict=True):
        with pikepdf.open(io.BytesIO(content)) as document:
            out.append(split_pages(document, list(job.titles)))
    return out


def pdf_bytes(document: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def split_pages(document: pikepdf.Pdf, titles: list[str]) -> list[bytes]:
    """Each page of ``document`` as a PDF of its own, titled by ``titles``."""
    singles = []
    for page, title in zip(document.pages, titles, strict=True):
        single = pikepdf.new()
        single.pages.append(page)
        single.docinfo["/Title"] = title
        single.docinfo["/Creator"] = "Monev KIM"
        singles.append(pdf_bytes(single))
        single.close()
    return singles


_SHARED = (pikepdf.Name.XObject, pikepdf.Name.Font)


def _fingerprint(obj, memo: dict) -> str:
    """A digest of a PDF object's content (streams by their raw bytes), ignoring where it is.
    Numbers, names and strings are hashed in place; only containers are followed."""
    if obj.is_indirect and obj.objgen in memo:
        return memo[obj.objgen]
    digest = hashlib.sha256()
    if isinstance(obj, pikepdf.Stream):
        digest.update(b"stream")
        digest.update(obj.read_raw_bytes())
        items = sorted((k, v) for k, v in obj.stream_dict.items() if k != "/Length")
    elif isinstance(obj, pikepdf.Dictionary):
        items = sorted(obj.items())
    elif isinstance(obj, pikepdf.Array):
        items = list(enumerate(obj))
    else:
        digest.update(repr(obj).encode("utf-8"))
        items = []
    for key, value in items:
        if key in ("/Parent", "/P"):
            continue
        digest.update(str(key).encode("utf-8"))
        if isinstance(value, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)):
            digest.update(_fingerprint(value, memo).encode("ascii"))
        else:  # a number, name, string or boolean (pikepdf gives numbers as Python values)
            digest.update(repr(value).encode("utf-8"))
    result = digest.hexdigest()
    if obj.is_indirect:
        memo[obj.objgen] = result
    return result


def merge_documents(documents) -> bytes:
    """The pages of ``documents`` (an iterable of PDF bytes) in one PDF, in order. A font or
    XObject identical to one already merged is pointed at that one instead of being copied
    again, so memory and size grow with the pages, not with the shared design.

    Electronic signatures do not survive a merge (each covers its own file), so their
    visible fields are left out: a merged page never shows a "signed electronically" stamp
    that no signature stands behind."""
    merged = pikepdf.new()
    seen: dict[str, pikepdf.Object] = {}
    count = 0
    for content in documents:
        with pikepdf.open(io.BytesIO(content)) as source:
            memo: dict = {}
            for page in source.pages:
                _drop_signature_fields(page.obj)
                reuse, fresh = {}, {}
                resources = page.obj.get("/Resources")
                for category in _SHARED if resources is not None else ():
                    group = resources.get(category)
                    if group is None:
                        continue
                    for name in list(group.keys()):
                        key = _fingerprint(group[name], memo)
                        if key in seen:
                            reuse[(category, name)] = key
                            group[name] = pikepdf.Dictionary()  # not copied
                        else:
                            fresh[(category, name)] = key
                merged.pages.append(page)
                copied = merged.pages[-1].obj.Resources
                for (category, name), key in reuse.items():
                    copied[category][name] = seen[key]
                for (category, name), key in fresh.items():
                    seen[key] = copied[category][name]
                count += 1
    if not count:
        raise ValueError("nothing to merge")
    return pdf_bytes(merged)


def _drop_signature_fields(page: pikepdf.Dictionary) -> None:
    annots = page.get("/Annots")
    if annots is None:
        return

    def is_signature(annot) -> bool:
        parent = annot.get("/Parent")
        return annot.get("/FT") == "/Sig" or (parent is not None and parent.get("/FT") == "/Sig")

    kept = [annot for annot in annots if not is_signature(annot)]
    if len(kept) == len(annots):
        return
    if kept:
        page.Annots = pikepdf.Array(kept)
    else:
        del page["/Annots"]


def _check_plain(value, path: str = "context") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, f"{path}[{i}]")
    elif not (value is None or isinstance(value, (str, int, float, bool))):
        raise TypeError(f"{path} is a {type(value).__name__}; pass plain values to templates")
