"""Demo submissions of the 2024 event: every finalist submitted and was verified (the event
was judged); the first three carry real, small evidence files — PDFs written here and a
photo drawn with Pillow — stored through the storage interface and checked by the same
inspection as uploads, so the workspace and verification pages show real content. The other
finalists' files are not part of the demo.

In 2025 (open for submissions), :func:`half_way` has KIM Teluk Pandan upload through the
workspace's own services, as its account: evidence for about half the criteria."""

from __future__ import annotations

import io
import os
import tempfile
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from monev.auth.models import User
from monev.core.timezones import to_utc
from monev.entries.models import Entry, Evidence
from monev.entries.workspace import evidence as workspace_evidence
from monev.entries.workspace.services import PROFILE_FIELDS, slot_for
from monev.events.models import Event
from monev.extensions import db
from monev.rubrics.models import Criterion
from monev.storage import get_storage, inspection, tracking
from monev.storage.spool import SpoolFile

WITH_FILES = 3
SUBMITTED = "2024-06-27T15:30"
VERIFIED = "2024-07-02T10:00"


def load(event: Event, entries: list[Entry], admin: User) -> int:
    """Mark the finalists submitted and verified; returns the number of files stored."""
    criteria = {
        c.key: c
        for c in db.session.query(Criterion).filter(
            Criterion.event_id == event.id, Criterion.evidence != "none"
        )
    }
    files = 0
    for index, entry in enumerate(entries):
        kim = entry.kim
        entry.profile = {field: getattr(kim, field) for field in PROFILE_FIELDS}
        entry.profile["sk_date"] = kim.sk_date.isoformat() if kim.sk_date else None
        entry.profile["social_links"] = list(kim.social_links or [])
        entry.submission_status = "verified"
        entry.submitted_at = to_utc(datetime.fromisoformat(SUBMITTED), event.timezone)
        entry.verified_at = to_utc(datetime.fromisoformat(VERIFIED), event.timezone)
        entry.verified_by_id = admin.id
        if index < WITH_FILES:
            files += _evidence(entry, criteria, admin)
    db.session.flush()
    return files


def half_way(entry: Entry) -> int:
    """KIM ``entry`` half-way: two documents (A1, A2) and its channel link (A5) uploaded by
    the KIM's own account through the workspace services; A3, A4 and the presentation are
    still missing. Returns the number of files stored."""
    kim = entry.kim
    user = db.session.scalar(select(User).where(User.role == "kim", User.kim_id == kim.id))
    criteria = {
        c.key: c
        for c in db.session.scalars(select(Criterion).where(Criterion.event_id == entry.event_id))
    }
    place = kim.village.label if kim.village else kim.name
    documents = [
        (
            "a1",
            f"SK Pembentukan {kim.name}.pdf",
            [f"SK Kepala {place}", f"Nomor: {kim.sk_number or '-'}", f"Ketua: {kim.chair_name}"],
        ),
        (
            "a2",
            "Struktur pengurus 2025.pdf",
            [f"Struktur Pengurus {kim.name} 2025", f"Anggota aktif: {kim.members_count or '-'}"],
        ),
    ]
    for key, name, lines in documents:
        upload = _upload(name, _pdf(lines))
        try:
            workspace_evidence.add_file(user, entry, slot_for(entry, criteria[key].id), upload)
        finally:
            upload.stream.close()  # the stored file was claimed: only an unused one goes
    workspace_evidence.add_link(
        user, entry, slot_for(entry, criteria["a5"].id), kim.website or "https://kim.id"
    )
    db.session.flush()
    return len(documents)


def _upload(name: str, data: bytes) -> FileStorage:
    """``data`` as the upload spool a browser's request would leave for the services."""
    spool = SpoolFile(get_storage().spool_dir(), limit=len(data) + 1, video_limit=None)
    spool.write(data)
    spool.flush()
    spool.seek(0)
    return FileStorage(stream=spool, filename=name, content_type="application/pdf")


def _evidence(entry: Entry, criteria: dict[str, Criterion], admin: User) -> int:
    kim = entry.kim
    place = kim.village.label if kim.village else kim.name
    documents = [
        (
            "a1",
            f"SK Pembentukan {kim.name}.pdf",
            [
                f"SK Kepala {place}",
                f"Nomor: {kim.sk_number or '-'}",
                f"tentang Pembentukan {kim.name}",
                f"Ketua: {kim.chair_name or '-'}",
            ],
        ),
        (
            "a2",
            "Struktur pengurus dan anggota.pdf",
            [
                f"Struktur Pengurus {kim.name}",
                f"Ketua: {kim.chair_name or '-'}",
                f"Jumlah anggota aktif: {kim.members_count or '-'}",
            ],
        ),
        (
            "a3",
            "Program kerja 2024.pdf",
            [
                "Program Kerja Tahun 2024",
                "1. Diseminasi informasi program desa",
                "2. Forum warga bulanan",
                "3. Pelatihan literasi digital",
            ],
        ),
        (
            None,
            f"Presentasi {kim.name}.pdf",
            [f"Presentasi {kim.name}", "Monev KIM se-Kalimantan Timur 2024", "ADINDA-P"],
        ),
    ]
    stored = 0
    for key, name, lines in documents:
        stored += _store(entry, criteria.get(key) if key else None, name, _pdf(lines), admin)
    stored += _store(
        entry, criteria["a4"], "Foto kegiatan forum warga.png", _photo(kim.name), admin
    )
    slug = kim.email.split("@")[0].removeprefix("kim.") if kim.email else "kim"
    for key, url in (
        ("a4", f"https://www.instagram.com/kim.{slug}/"),
        ("a5", kim.website or f"https://www.instagram.com/kim.{slug}/"),
    ):
        db.session.add(
            Evidence(
                entry_id=entry.id,
                criterion_id=criteria[key].id,
                kind="link",
                url=url,
                uploaded_by_id=admin.id,
            )
        )
    return stored


def _store(entry: Entry, criterion: Criterion | None, name: str, data: bytes, admin) -> int:
    """Through the upload inspection and the storage interface, like a real upload."""
    storage = get_storage()
    fd, tmp = tempfile.mkstemp(dir=storage.spool_dir(), prefix=".demo-")
    path = Path(tmp)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    checked = inspection.inspect(
        path, data[: 64 * 1024], inspection.EVIDENCE_TYPES, max_pixels=40_000_000
    )
    key = f"entries/{entry.id}/{uuid.uuid4().hex}.{checked.type.ext}"
    tracking.stored(storage, key)
    storage.put(key, checked.path, checked.type.content_type)
    thumbnail_key = None
    if checked.thumbnail:
        thumbnail_key = key.rsplit(".", 1)[0] + ".thumb.jpg"
        tracking.stored(storage, thumbnail_key)
        storage.put_bytes(thumbnail_key, checked.thumbnail, "image/jpeg")
    db.session.add(
        Evidence(
            entry_id=entry.id,
            criterion_id=criterion.id if criterion else None,
            kind="file",
            storage_key=key,
            thumbnail_key=thumbnail_key,
            original_name=name,
            content_type=checked.type.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by_id=admin.id,
        )
    )
    return 1


def _pdf(lines: list[str]) -> bytes:
    """A one-page A4 PDF with a heading and a few lines of Helvetica."""
    import pikepdf

    doc = pikepdf.new()
    font = doc.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    page = doc.add_blank_page(page_size=(595, 842))
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    ops = ["BT", "/F1 20 Tf", "72 760 Td", f"({_escape(lines[0])}) Tj", "/F1 12 Tf"]
    for line in lines[1:]:
        ops += ["0 -28 Td", f"({_escape(line)}) Tj"]
    ops.append("ET")
    page.Contents = doc.make_stream("\n".join(ops).encode("latin-1", "replace"))
    out = io.BytesIO()
    doc.save(out, deterministic_id=True)
    return out.getvalue()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _photo(title: str) -> bytes:
    """A small drawn 'photo' of a village forum: sky, hall, people, a caption."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (640, 400), (135, 190, 230))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 280, 640, 400], fill=(90, 150, 80))
    draw.polygon([(140, 150), (320, 60), (500, 150)], fill=(150, 60, 40))
    draw.rectangle([160, 150, 480, 300], fill=(235, 225, 200))
    draw.rectangle([290, 210, 350, 300], fill=(110, 70, 40))
    for i, x in enumerate(range(60, 600, 70)):
        draw.ellipse([x, 300, x + 24, 324], fill=(60 + i * 10, 40, 30))
        draw.rectangle([x + 2, 324, x + 22, 360], fill=(30, 80 + i * 12, 140))
    draw.rectangle([0, 368, 640, 400], fill=(0, 0, 0))
    draw.text((12, 376), f"Forum warga - {title}", fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()
