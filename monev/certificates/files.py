"""Certificate PDFs: rendered in chunks (optionally in worker processes), written to files,
merged into one document."""

from __future__ import annotations

from collections.abc import Iterable

from monev.certificates.design import TEMPLATE, design, page_fields
from monev.certificates.models import Certificate
from monev.certificates.qr import qr_operators
from monev.certificates.settings import settings_for
from monev.pdf.rendering import layered_job, merge_documents, render_many

CHUNK = 100  # certificates laid out per WeasyPrint document (memory stays flat)
MIN_RUN = 10  # fewer certificates per document are not worth a worker process


def pdf(cert: Certificate) -> bytes:
    return pdfs([cert])[0]


def pdfs(certs: list[Certificate], *, processes: int = 1) -> list[bytes]:
    """One PDF per certificate, in order. The design of each event and kind is rendered
    once, the changing parts of up to ``CHUNK`` certificates are laid out together, and with
    ``processes`` > 1 the chunks are rendered in that many worker processes (for batches;
    see bench/certificates.py)."""

    jobs, slots = [], []
    for (_event, kind), group in _groups(certs).items():
        event = group[0][1].event
        settings = settings_for(event)
        shared = design(event, kind, settings)
        for chunk in _chunks(group, processes):
            pages = [page_fields(cert, settings) for _index, cert in chunk]
            marks = [qr_operators(page["verify_url"]) for page in pages]
            jobs.append(layered_job(TEMPLATE, shared, pages, marks))
            slots.append([index for index, _cert in chunk])
    out: list[bytes | None] = [None] * len(certs)
    for indexes, singles in zip(slots, render_many(jobs, processes), strict=True):
        for index, content in zip(indexes, singles, strict=True):
            out[index] = content
    return out  # type: ignore[return-value]


def _chunks(items: list, processes: int) -> list[list]:
    """``items`` in runs of at most ``CHUNK`` and of even length; with ``processes`` > 1, as
    many runs as a multiple of ``processes`` (each process gets the same amount of work)
    unless the runs would be tiny."""
    count = -(-len(items) // CHUNK)
    if processes > 1:
        count = max(count, min(processes, len(items) // MIN_RUN))
        count = -(-count // processes) * processes if count > 1 else count
    size = -(-len(items) // max(count, 1))
    return [items[i : i + size] for i in range(0, len(items), size)]


def write_files(certs: list[Certificate], folder, *, run: int, processes: int = 1, progress=None):
    """Write one PDF per certificate into ``folder``, ``run`` certificates at a time (memory
    stays flat); ``progress(n)`` after each run. Returns the paths, in order."""
    from pathlib import Path

    paths = []
    for start in range(0, len(certs), run):
        part = certs[start : start + run]
        for cert, content in zip(part, pdfs(part, processes=processes), strict=True):
            path = Path(folder) / filename(cert)
            path.write_bytes(content)
            paths.append(path)
        if progress is not None:
            progress(len(part))
    return paths


def merge(documents: Iterable[bytes]) -> bytes:
    """The pages of ``documents`` (PDF bytes, read one at a time) in one PDF, in order.
    Fonts and images the documents share (the design under every certificate) are kept once,
    so merging 500 single certificates costs about what one multi-page document does."""

    return merge_documents(documents)


def _groups(certs: list[Certificate]) -> dict[tuple[int, str], list[tuple[int, Certificate]]]:
    groups: dict[tuple[int, str], list[tuple[int, Certificate]]] = {}
    for index, cert in enumerate(certs):
        groups.setdefault((cert.event_id, cert.kind), []).append((index, cert))
    return groups


def filename(cert: Certificate) -> str:
    safe = "".join(ch if ch.isalnum() else "-" for ch in cert.number).strip("-")
    return f"sertifikat-{safe}.pdf"
