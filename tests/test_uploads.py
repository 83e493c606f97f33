"""Uploads a finalist can rely on, and that nobody can abuse: the type comes from the content,
dangerous files are refused with a clear message, the size limit holds while the body
arrives, names are only for display, files are served only to those allowed. Every refusal
is checked to have changed nothing: no row, no stored file, no temporary file."""

from __future__ import annotations

import hashlib
import io
import socket
import struct
import threading
import tracemalloc

import pytest
from PIL import Image

from monev.extensions import db
from monev.storage import inspection
from tests import upload_corpus as corpus
from tests.conftest import csrf_token, login, t
from tests.submission_fixtures import *  # noqa: F403  (its fixtures)
from tests.submission_fixtures import (
    assert_nothing_stored,
    audit_actions,
    plain,
    rows,
    said,
    said_before,
    send_file,
    send_link,
    spool_files,
    stored_keys,
)


def stored_bytes(app, key: str) -> bytes:
    from monev.storage import get_storage

    with app.app_context(), get_storage().open(key) as fh:
        return fh.read()


# --- the corpus of refusals ----------------------------------------------------------------

MARKUP = (
    "This file is a web page or an SVG/XML document. These are never accepted, whatever their "
    "name: save it as PDF first.",
)
PROGRAM = (
    "This file is a program (%(what)s). Programs are never accepted, whatever their name.",
    {"what": "Windows Executable file"},
)
POLYGLOT = (
    "This PDF also contains web-page code (HTML or script), so it is refused. Export the "
    "document to PDF again from its original program.",
)
SCRIPT = (
    "This PDF contains %(what)s, which could run when it is opened, so it is refused. Print it "
    "to a new PDF (or export it again without scripts) and re-upload it.",
)
OPEN_ACTION = (*SCRIPT, {"what": ("an action run on opening (OpenAction)",)})
NAMED_SCRIPT = (*SCRIPT, {"what": ("JavaScript",)})
BOMB = (
    "This Office file unpacks to far more data than it appears to hold (a 'zip bomb'), so it is "
    "refused. Save it again from PowerPoint, Word or Excel and re-upload it.",
)
FLOOD = (
    "This image has more pixels than the %(max)d million allowed. Resize it and re-upload it.",
    {"max": 40},
)
BROKEN_PDF = ("This PDF is damaged and cannot be read. Export it to PDF again and re-upload it.",)
MACRO = (
    "This Office file contains macros, which are not accepted. Save it as a normal .pptx, .docx "
    "or .xlsx file without macros.",
)
NOT_OFFICE = (
    "This ZIP archive is not a PowerPoint, Word or Excel file. Accepted: %(types)s.",
    {"types": None},  # compared up to the list of types
)
BROKEN_IMAGE = ("This image is damaged and cannot be read. Save it again and re-upload it.",)
BROKEN_VIDEO = ("This video is damaged or incomplete. Export it again as MP4 and re-upload it.",)
BROKEN_OFFICE = ("This Office file is damaged and cannot be read. Save it again and re-upload it.",)
TOO_LARGE = (
    "This file is larger than %(mb)d MB, the limit for one file (MP4 videos: up to %(video)d "
    "MB). Make it smaller, or share a large video as a link.",
    {"mb": 2, "video": 4},
)


def message_of(app, spec) -> str:
    """The text the user reads for a (msgid, params) spec; a None param: up to that param; a
    param given as a 1-tuple: a msgid translated in turn."""
    msgid, params = spec[0], dict(spec[1]) if len(spec) > 1 else {}
    for key, value in list(params.items()):
        if value is None:
            params.pop(key)
            return said_before(app, msgid, key, **params)
        if isinstance(value, tuple):
            params[key] = plain(app, value[0])
    return said(app, msgid, **params)


REFUSED = [
    ("html renamed .pdf", corpus.html_named_pdf, "laporan.pdf", MARKUP),
    ("exe renamed .pdf", corpus.exe_named_pdf, "laporan.pdf", PROGRAM),
    ("PDF/HTML polyglot", corpus.pdf_html_polyglot, "laporan.pdf", POLYGLOT),
    ("HTML/PDF polyglot", corpus.html_pdf_polyglot, "laporan.pdf", MARKUP),
    ("PDF with JavaScript OpenAction", corpus.pdf_with_javascript, "sk.pdf", OPEN_ACTION),
    ("PDF with named JavaScript", corpus.pdf_with_named_javascript, "sk.pdf", NAMED_SCRIPT),
    ("broken PDF", corpus.broken_pdf, "sk.pdf", BROKEN_PDF),
    # zipfile stops at the declared size, so the entry's CRC fails: refused as damaged
    ("zip bomb with lying sizes", corpus.lying_zip_bomb_pptx, "materi.pptx", BROKEN_OFFICE),
    ("docx with macros", corpus.macro_docx, "laporan.docx", MACRO),
    ("zip that is no Office file", corpus.zip_not_office, "materi.pptx", NOT_OFFICE),
    ("pixel-flood PNG", corpus.pixel_flood_png, "foto.png", FLOOD),
    ("truncated PNG", corpus.truncated_png, "foto.png", BROKEN_IMAGE),
    ("SVG", corpus.svg, "logo.png", MARKUP),
    ("broken MP4", corpus.broken_mp4, "video.mp4", BROKEN_VIDEO),
]


@pytest.mark.parametrize(
    ("make", "name", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_dangerous_or_broken_file_is_refused_with_a_clear_message(
    app, finalist, kim_client, make, name, message
):
    response = send_file(kim_client, finalist.file_url("a1"), make(), name)
    assert response.status_code == 422
    assert message_of(app, message) in response.get_data(as_text=True)
    assert_nothing_stored(app)
    assert "evidence.added" not in audit_actions(app)


def test_zip_bomb_of_200_mb_zeros_named_pptx_is_refused(app, finalist, kim_client, tmp_path):
    bomb = corpus.zip_bomb_pptx(tmp_path / "materi.pptx")
    assert bomb.stat().st_size < 400 * 1024  # 200 MB of zeros in a small file
    response = send_file(kim_client, finalist.file_url(None), bomb.read_bytes(), "materi.pptx")
    assert response.status_code == 422
    assert message_of(app, BOMB) in response.get_data(as_text=True)
    assert_nothing_stored(app)


def test_refusal_message_is_in_indonesian_by_default(app, finalist, kim_client):
    response = send_file(kim_client, finalist.file_url("a1"), corpus.exe_named_pdf(), "sk.pdf")
    expected = t(
        app,
        "This file is a program (%(what)s). Programs are never accepted, whatever their name.",
        what="Windows Executable file",
    )
    assert expected in response.get_data(as_text=True)


def test_type_comes_from_content_not_name(app, finalist, kim_client):
    response = send_file(kim_client, finalist.file_url("a1"), corpus.pdf(), "foto-kegiatan.jpg")
    assert response.status_code == 303
    (item,) = rows(app)
    assert item.content_type == "application/pdf"
    assert item.storage_key.endswith(".pdf")
    assert item.original_name == "foto-kegiatan.jpg"


def test_presentation_takes_only_pdf_or_pptx(app, finalist, kim_client):
    response = send_file(kim_client, finalist.file_url(None), corpus.image("PNG"), "slide.png")
    assert response.status_code == 422
    types = ", ".join([plain(app, "PDF"), plain(app, "PowerPoint presentation (PPTX)")])
    expected = said(
        app,
        "A %(type)s is not accepted here. Accepted: %(types)s.",
        type=plain(app, "PNG image"),
        types=types,
    )
    assert expected in response.get_data(as_text=True)
    assert_nothing_stored(app)


def test_harmless_open_action_is_accepted(app, finalist, kim_client):
    response = send_file(kim_client, finalist.file_url("a1"), corpus.pdf_opening_at_page())
    assert response.status_code == 303


# --- what is accepted and how it is stored -------------------------------------------------

ACCEPTED = [
    ("pdf", lambda: corpus.pdf(), "sk.pdf", "application/pdf"),
    ("jpeg", lambda: corpus.image("JPEG"), "foto.jpg", "image/jpeg"),
    ("png", lambda: corpus.image("PNG"), "foto.png", "image/png"),
    ("webp", lambda: corpus.image("WEBP"), "foto.webp", "image/webp"),
    ("pptx", lambda: corpus.office("pptx"), "materi.pptx", inspection.TYPES["pptx"].content_type),
    ("docx", lambda: corpus.office("docx"), "laporan.docx", inspection.TYPES["docx"].content_type),
    ("xlsx", lambda: corpus.office("xlsx"), "anggota.xlsx", inspection.TYPES["xlsx"].content_type),
    ("mp4", lambda: corpus.mp4(), "video.mp4", "video/mp4"),
]


@pytest.mark.parametrize(
    ("make", "name", "content_type"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED]
)
def test_accepted_types_are_stored_under_a_generated_name_with_their_sha256(
    app, finalist, kim_client, make, name, content_type
):
    data = make()
    response = send_file(kim_client, finalist.file_url("a1"), data, name)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    (item,) = rows(app)
    assert item.content_type == content_type
    assert item.original_name == name
    stored = stored_bytes(app, item.storage_key)
    assert item.sha256 == hashlib.sha256(stored).hexdigest()
    assert item.size == len(stored)
    ext = inspection.TYPES[
        next(k for k, v in inspection.TYPES.items() if v.content_type == content_type)
    ].ext
    assert item.storage_key.startswith(f"entries/{finalist.entry_id}/")
    assert item.storage_key.endswith(f".{ext}")
    assert name.rsplit(".", 1)[0] not in item.storage_key
    if content_type.startswith("image/"):
        assert item.thumbnail_key is not None
    else:
        assert stored == data and item.thumbnail_key is None
    assert spool_files(app) == []


def test_images_are_reencoded_without_metadata_and_upright(app, finalist, kim_client):
    original = corpus.jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as img:
        assert img.getexif().get_ifd(corpus.GPS_IFD)  # the test photo does carry GPS
    response = send_file(kim_client, finalist.file_url("a1"), original, "foto-kegiatan.jpg")
    assert response.status_code == 303
    (item,) = rows(app)
    stored = stored_bytes(app, item.storage_key)
    with Image.open(io.BytesIO(stored)) as img:
        assert dict(img.getexif()) == {}
        assert "exif" not in img.info
        assert img.size == (300, 400)  # the EXIF orientation applied, then dropped
    with Image.open(io.BytesIO(stored_bytes(app, item.thumbnail_key))) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) <= 480


def test_same_file_twice_in_one_entry_is_refused(app, finalist, kim_client):
    data = corpus.pdf("Sama")
    assert send_file(kim_client, finalist.file_url("a1"), data, "sk.pdf").status_code == 303
    response = send_file(kim_client, finalist.file_url("a3"), data, "salinan.pdf")
    assert response.status_code == 409
    expected = said(
        app,
        "This file is already part of your entry: “%(name)s” under %(where)s.",
        name="sk.pdf",
        where="A1 SK pembentukan KIM",
    )
    assert expected in response.get_data(as_text=True)
    assert len(rows(app)) == 1
    assert len(stored_keys(app)) == 1
    assert spool_files(app) == []


def test_same_file_in_two_entries_is_fine(app, make_finalist):
    first = make_finalist()
    second = make_finalist()
    data = corpus.pdf("Bersama")
    for who in (first, second):
        client = app.test_client()
        login(client, who.email)
        assert send_file(client, who.file_url("a1"), data).status_code == 303
    assert len(rows(app)) == 2


# --- names ---------------------------------------------------------------------------------

NAMES = [
    ("../../../etc/passwd.pdf", "passwd.pdf"),
    ("/absolute/path/sk.pdf", "sk.pdf"),
    ("laporan\u202efdp.exe", "laporanfdp.exe"),  # right-to-left override removed
    ("Laporan Kegiatan – Desa Teluk Pandan 📄.pdf", "Laporan Kegiatan – Desa Teluk Pandan 📄.pdf"),
    ("Caf\u0065\u0301 KIM.pdf", "Café KIM.pdf"),  # NFC
    ("...", "file"),
    ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
]


@pytest.mark.parametrize(("raw", "shown"), NAMES)
def test_path_traversal_and_unicode_names_are_display_only(app, finalist, kim_client, raw, shown):
    response = send_file(kim_client, finalist.file_url("a1"), corpus.pdf(raw[:20]), raw)
    assert response.status_code == 303
    (item,) = rows(app)
    assert item.original_name == shown
    assert item.storage_key.startswith(f"entries/{finalist.entry_id}/")
    assert "/" not in item.storage_key.split(f"entries/{finalist.entry_id}/")[1]
    served = kim_client.get(f"/files/{item.id}?download=1")
    assert served.status_code == 200
    disposition = served.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "/" not in disposition and "\\" not in disposition and "\r" not in disposition


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("..\\..\\windows\\boot.pdf", "boot.pdf"),
        ("C:\\fakepath\\sk.pdf", "sk.pdf"),
        ("sk\x00\x07.pdf\r\n", "sk.pdf"),
        ("\u200b\u2066laporan\u2069.pdf", "laporan.pdf"),
        ("  ", "file"),
        (None, "file"),
    ],
)
def test_display_name_keeps_no_path_or_control_characters(raw, shown):
    from monev.entries.workspace.services import display_name

    assert display_name(raw) == shown


def test_misleading_extension_is_corrected_for_download(app, finalist, kim_client):
    send_file(kim_client, finalist.file_url("a1"), corpus.pdf(), "virus.exe")
    (item,) = rows(app)
    served = kim_client.get(f"/files/{item.id}?download=1")
    assert served.headers["Content-Disposition"] == "attachment; filename=virus.exe.pdf"


# --- the size limit ------------------------------------------------------------------------


class StreamedBody(io.RawIOBase):
    """A multipart body produced on the fly (never held whole), counting what is read."""

    def __init__(self, head: bytes, size: int, tail: bytes, token: str):
        self.boundary = "monevboundary7f3a"
        preamble = (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f'{token}\r\n--{self.boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="video.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
        ).encode()
        self.parts = [preamble, head]
        self.remaining = size - len(head) - len(tail)
        self.tail = tail
        self.epilogue = f"\r\n--{self.boundary}--\r\n".encode()
        self.length = len(preamble) + size + len(self.epilogue)
        self.read_bytes = 0
        self._buffer = b""
        self.announced = self.length  # the Content-Length the request claims
        self._at_end = False

    def readable(self):
        return True

    # werkzeug's test client measures the stream by seeking to its end and back
    def seekable(self):
        return True

    def tell(self) -> int:
        return self.announced if self._at_end else self.read_bytes

    def seek(self, offset: int, whence: int = 0) -> int:
        self._at_end = whence == 2
        return self.tell()

    def _more(self) -> bytes:
        if self.parts:
            return self.parts.pop(0)
        if self.remaining > 0:
            n = min(self.remaining, 256 * 1024)
            self.remaining -= n
            return bytes(n)
        if self.tail is not None:
            tail, self.tail = self.tail, None
            return tail + self.epilogue
        return b""

    def readinto(self, buffer) -> int:
        while not self._buffer:
            self._buffer = self._more()
            if not self._buffer:
                return 0
        n = min(len(buffer), len(self._buffer))
        buffer[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        self.read_bytes += n
        return n

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"


def post_stream(client, url: str, body: StreamedBody, content_length: int | None = None):
    body.announced = body.length if content_length is None else content_length
    return client.post(url, input_stream=body, content_type=body.content_type)


def test_file_over_the_limit_is_refused_while_streaming_with_flat_memory(app, finalist, kim_client):
    app.config.update(MAX_UPLOAD_MB=2, MAX_VIDEO_MB=4)
    token = csrf_token(kim_client, finalist.page)
    size = 64 * 1024 * 1024  # under the body cap only if it were read whole
    body = StreamedBody(corpus.pdf()[:1024], size, b"%%EOF", token)
    tracemalloc.start()
    try:
        response = post_stream(kim_client, finalist.file_url("a1"), body, content_length=3 << 20)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    assert message_of(app, TOO_LARGE) in response.get_data(as_text=True)
    assert body.read_bytes < 3 * 1024 * 1024  # stopped at the limit, not read to the end
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while refusing"
    assert_nothing_stored(app)


def test_body_larger_than_the_cap_is_refused_before_reading(app, finalist, kim_client):
    app.config.update(MAX_UPLOAD_MB=2, MAX_VIDEO_MB=4)  # cap: 4 MB + 1 MB of form
    token = csrf_token(kim_client, finalist.page)
    body = StreamedBody(corpus.mp4_header(10 << 20), 10 << 20, b"", token)
    response = post_stream(kim_client, finalist.file_url("a1"), body)
    assert response.status_code == 413
    assert body.read_bytes == 0
    assert_nothing_stored(app)


def test_large_upload_streams_to_disk_with_flat_memory(app, finalist, kim_client):
    """A 40 MB video is accepted with a peak of a few MB in Python: never held in memory."""
    size = 40 * 1024 * 1024
    token = csrf_token(kim_client, finalist.page)
    payload = size - len(corpus.mp4_header(0))
    body = StreamedBody(corpus.mp4_header(payload), size, b"", token)
    tracemalloc.start()
    try:
        response = post_stream(kim_client, finalist.file_url("a1"), body)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB for a 40 MB upload"
    (item,) = rows(app)
    assert item.size == size and item.content_type == "video/mp4"
    assert spool_files(app) == []


def test_videos_get_the_larger_limit_other_files_do_not(app, finalist, kim_client):
    app.config.update(MAX_UPLOAD_MB=1, MAX_VIDEO_MB=3)
    video = corpus.mp4(2 * 1024 * 1024)
    assert send_file(kim_client, finalist.file_url("a1"), video, "video.mp4").status_code == 303
    big_pdf = corpus.pdf("x") + b"%" + bytes(2 * 1024 * 1024)
    response = send_file(kim_client, finalist.file_url("a3"), big_pdf, "besar.pdf")
    assert response.status_code == 413
    too_long = corpus.mp4(3 * 1024 * 1024 + 512 * 1024)  # over the video limit, under the cap
    response = send_file(kim_client, finalist.file_url("a3"), too_long, "panjang.mp4")
    assert response.status_code == 413
    expected = said(app, "This video is larger than %(mb)d MB, the limit for videos.", mb=3)
    assert expected in response.get_data(as_text=True)
    # the presentation takes no video files: an MP4 there gets the ordinary limit
    response = send_file(kim_client, finalist.file_url(None), video, "video.mp4")
    assert response.status_code == 413
    assert len(rows(app)) == 1
    assert spool_files(app) == []


# --- interrupted uploads and failures ------------------------------------------------------


def test_interrupted_upload_leaves_no_file_and_no_row(app, finalist, kim_client):
    token = csrf_token(kim_client, finalist.page)
    data = corpus.pdf()
    body = StreamedBody(data + bytes(2 << 20), len(data) + (2 << 20), b"", token)
    body.epilogue = b""  # the connection drops: fewer bytes arrive than announced
    response = post_stream(
        kim_client, finalist.file_url("a1"), body, content_length=body.length + 4096
    )
    assert response.status_code == 400
    assert_nothing_stored(app)


def test_failure_after_storing_removes_the_file_with_the_rollback(
    backend, app, finalist, kim_client, monkeypatch
):
    from monev.entries.workspace import services as submissions

    def broken(*_args, **_kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(submissions.audit, "record", broken)
    response = send_file(kim_client, finalist.file_url("a1"), corpus.image("PNG"), "foto.png")
    assert response.status_code == 500
    assert_nothing_stored(app)


# --- serving -------------------------------------------------------------------------------


def test_files_are_served_only_to_the_kim_its_judges_and_admins(
    backend, app, make_finalist, make_user
):
    owner = make_finalist()
    other = make_finalist()
    client = app.test_client()
    login(client, owner.email)
    assert send_file(client, owner.file_url("a1"), corpus.pdf("Milik sendiri")).status_code == 303
    assert (
        send_file(client, owner.file_url("a3"), corpus.office("docx"), "l.docx").status_code == 303
    )
    pdf_item, docx_item = rows(app)

    response = client.get(f"/files/{pdf_item.id}")
    assert response.status_code == 200
    assert response.get_data() == stored_bytes(app, pdf_item.storage_key)
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline;")
    docx = client.get(f"/files/{docx_item.id}")
    assert docx.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in docx.headers["Content-Security-Policy"]

    intruder = app.test_client()
    login(intruder, other.email)
    assert intruder.get(f"/files/{pdf_item.id}").status_code == 404
    assert intruder.get(f"/files/{pdf_item.id}/thumbnail").status_code == 404

    judge = make_user("judge")
    judge_client = app.test_client()
    login(judge_client, judge.email)
    assert judge_client.get(f"/files/{pdf_item.id}").status_code == 404  # not assigned
    _assign(app, judge.id, owner)
    assert judge_client.get(f"/files/{pdf_item.id}").status_code == 200
    _conflict(app, judge.id, owner)
    assert judge_client.get(f"/files/{pdf_item.id}").status_code == 404  # conflict declared

    admin_client = app.test_client()
    login(admin_client, make_user("admin").email)
    assert admin_client.get(f"/files/{docx_item.id}").status_code == 200

    operator_client = app.test_client()
    login(operator_client, make_user("operator").email)
    assert operator_client.get(f"/files/{pdf_item.id}").status_code == 403


def _conflict(app, judge_id, finalist) -> None:
    from monev.judging.models import Conflict

    with app.app_context():
        db.session.add(Conflict(entry_id=finalist.entry_id, judge_id=judge_id, source="judge"))
        db.session.commit()


def _assign(app, judge_id, finalist) -> None:
    from sqlalchemy import select

    from monev.events.models import Stage
    from monev.judging.models import Assignment

    with app.app_context():
        stage_id = db.session.scalar(select(Stage.id).where(Stage.event_id == finalist.event_id))
        db.session.add(Assignment(stage_id=stage_id, entry_id=finalist.entry_id, judge_id=judge_id))
        db.session.commit()


# --- links ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://kim.desa.id/a",
        "file:///etc/passwd",
        "kim.desa.id",
        "https://",
        "https://kim desa.id",
        "http://\u0000x.id",
    ],
)
def test_only_http_and_https_links_are_accepted(app, finalist, kim_client, link):
    response = send_link(kim_client, finalist.link_url("a2"), link)
    assert response.status_code == 422
    assert rows(app) == []


def test_links_are_shown_as_links_never_embedded(app, finalist, kim_client):
    url = "https://www.instagram.com/kim.uji/?x=<b>1</b>"
    assert send_link(kim_client, finalist.link_url("a2"), url).status_code == 303
    page = kim_client.get(finalist.page).get_data(as_text=True)
    escaped = "https://www.instagram.com/kim.uji/?x=&lt;b&gt;1&lt;/b&gt;"
    assert f'<a href="{escaped}" rel="noopener noreferrer nofollow ugc" target="_blank">' in page
    assert f'src="{escaped}"' not in page


def test_file_criterion_refuses_links_and_link_criterion_refuses_files(app, finalist, kim_client):
    assert send_link(kim_client, finalist.link_url("a1"), "https://a.id").status_code == 422
    assert send_file(kim_client, finalist.file_url("a2"), corpus.pdf()).status_code == 422
    assert_nothing_stored(app)


# --- htmx ----------------------------------------------------------------------------------


def test_htmx_upload_answers_with_just_the_card(app, finalist, kim_client):
    response = send_file(kim_client, finalist.file_url("a1"), corpus.pdf(), htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<article id="criterion-{finalist.criteria["a1"]}"')
    assert "<html" not in html
    assert response.headers["HX-Trigger"] == "entry-changed"
    refused = send_file(kim_client, finalist.file_url("a1"), corpus.svg(), "x.svg", htmx=True)
    assert refused.status_code == 422
    assert message_of(app, MARKUP) in refused.get_data(as_text=True)


# --- the antivirus hook ----------------------------------------------------------------------


class FakeClamd:
    """A loopback server speaking clamd's INSTREAM protocol with a fixed verdict."""

    def __init__(self, answer: bytes | None):
        self.answer = answer
        self.received = b""
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.sock.accept()
        with conn:
            data = b""
            while not data.endswith(b"\0\0\0\0"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            self.received = data
            if self.answer is not None:
                conn.sendall(self.answer)

    def close(self):
        self.sock.close()
        self.thread.join(timeout=5)


SCANNER_DOWN = (
    "The file could not be checked for viruses just now, so it was not accepted. Please try "
    "again in a few minutes.",
)


@pytest.mark.parametrize(
    ("answer", "status", "message"),
    [
        (b"stream: OK\0", 303, None),
        (
            b"stream: Eicar-Test-Signature FOUND\0",
            422,
            (
                "The virus scanner found %(name)s in this file, so it was refused.",
                {"name": "Eicar-Test-Signature"},
            ),
        ),
        (b"INSTREAM size limit exceeded. ERROR\0", 503, SCANNER_DOWN),
        (None, 503, SCANNER_DOWN),
    ],
    ids=["clean", "infected", "scanner error", "no answer"],
)
def test_antivirus_hook_refuses_unless_the_scanner_says_clean(
    app, finalist, kim_client, answer, status, message
):
    clamd = FakeClamd(answer)
    app.config["CLAMD_ADDRESS"] = clamd.address
    data = corpus.pdf("Dipindai")
    try:
        response = send_file(kim_client, finalist.file_url("a1"), data)
    finally:
        clamd.close()
    assert response.status_code == status
    assert clamd.received.startswith(b"zINSTREAM\0")
    length = struct.unpack("!L", clamd.received[10:14])[0]
    assert clamd.received[14 : 14 + length] == data[:length]
    if message:
        assert message_of(app, message) in response.get_data(as_text=True)
        assert_nothing_stored(app)
    else:
        assert len(rows(app)) == 1


def test_unreachable_scanner_refuses(app, finalist, kim_client):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    app.config["CLAMD_ADDRESS"] = f"127.0.0.1:{port}"
    response = send_file(kim_client, finalist.file_url("a1"), corpus.pdf())
    assert response.status_code == 503
    assert_nothing_stored(app)


def test_truncated_image_is_refused_even_when_pillow_was_told_to_accept_them(
    app, finalist, kim_client, monkeypatch
):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as WeasyPrint sets it
    response = send_file(kim_client, finalist.file_url("a1"), corpus.truncated_png(), "foto.png")
    assert response.status_code == 422
    assert message_of(app, BROKEN_IMAGE) in response.get_data(as_text=True)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # left as it was
    assert_nothing_stored(app)
