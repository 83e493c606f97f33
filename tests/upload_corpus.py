"""Files the upload tests send: good ones of every accepted type, and a corpus of dangerous or
broken ones, all generated here (nothing is downloaded or checked in)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pikepdf
from PIL import Image

CONTENT_TYPES_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
)


# --- good files ----------------------------------------------------------------------------


def pdf(text: str = "Laporan kegiatan KIM", pages: int = 1) -> bytes:
    doc = pikepdf.new()
    font = doc.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    for number in range(pages):
        page = doc.add_blank_page(page_size=(595, 842))
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        content = f"BT /F1 18 Tf 72 760 Td ({text} {number + 1}) Tj ET".encode()
        page.Contents = doc.make_stream(content)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def image(
    fmt: str = "PNG", size=(320, 200), color=(11, 110, 79), exif: dict | None = None
) -> bytes:
    img = Image.new("RGB", size, color)
    out = io.BytesIO()
    kwargs = {}
    if exif is not None:
        data = img.getexif()
        for tag, value in exif.items():
            data[tag] = value
        kwargs["exif"] = data
    img.save(out, fmt, **kwargs)
    return out.getvalue()


GPS_IFD = 0x8825


def jpeg_with_gps() -> bytes:
    """A photo carrying a camera make and GPS coordinates in its EXIF."""
    img = Image.new("RGB", (400, 300), (200, 120, 40))
    exif = img.getexif()
    exif[0x010F] = "KameraDesa"  # Make
    exif[0x0112] = 6  # orientation: rotated 90°
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "S"
    gps[2] = (0.0, 30.0, 0.0)
    gps[3] = "E"
    gps[4] = (117.0, 9.0, 0.0)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def office(kind: str = "pptx", extra: dict[str, bytes] | None = None) -> bytes:
    part = {"pptx": "ppt/presentation.xml", "docx": "word/document.xml", "xlsx": "xl/workbook.xml"}[
        kind
    ]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(part, f"<{kind}>Monev KIM</{kind}>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def mp4_header(payload: int) -> bytes:
    """The boxes before the media data, for an MP4 whose 'mdat' holds ``payload`` bytes."""
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 0x200, b"isom", b"mp42")
    mvhd = struct.pack(">I4s", 108, b"mvhd") + bytes(100)
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    return ftyp + moov + struct.pack(">I4s", 8 + payload, b"mdat")


def mp4(payload: int = 4096) -> bytes:
    return mp4_header(payload) + bytes(payload)


# --- the dangerous and broken ----------------------------------------------------------------


def html_named_pdf() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def exe_named_pdf() -> bytes:
    """A Windows program's headers (DOS stub pointing at a PE header)."""
    data = bytearray(1024)
    data[0:2] = b"MZ"
    data[0x3C:0x40] = struct.pack("<I", 0x80)
    data[0x80:0x84] = b"PE\0\0"
    data[0x84:0x86] = struct.pack("<H", 0x14C)  # i386
    data[0x4E:0x75] = b"This program cannot be run in DOS mode.\r\n"
    return bytes(data)


def pdf_html_polyglot() -> bytes:
    """A valid PDF that is also a web page: HTML and script after the PDF header."""
    good = pdf("Polyglot")
    header, rest = good.split(b"\n", 1)
    return header + b"\n%<html><body><script>fetch('/account')</script></body></html>\n" + rest


def html_pdf_polyglot() -> bytes:
    """HTML first, a PDF after it (PDF readers look for %PDF in the first 1024 bytes)."""
    return b"<html><script>alert(1)</script><!--\n" + pdf("Polyglot") + b"\n-->"


def pdf_with_javascript() -> bytes:
    doc = pikepdf.Pdf.open(io.BytesIO(pdf("Dengan skrip")))
    doc.Root.OpenAction = doc.make_indirect(
        pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x')"))
    )
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def pdf_with_named_javascript() -> bytes:
    doc = pikepdf.Pdf.open(io.BytesIO(pdf("Dengan skrip")))
    action = doc.make_indirect(
        pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x')"))
    )
    doc.Root.Names = pikepdf.Dictionary(
        JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("a"), action]))
    )
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def pdf_opening_at_page() -> bytes:
    """An OpenAction that only says which page to show: harmless, accepted."""
    doc = pikepdf.Pdf.open(io.BytesIO(pdf("Halaman pertama")))
    doc.Root.OpenAction = pikepdf.Array([doc.pages[0].obj, pikepdf.Name.Fit])
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def broken_pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nthis is not a pdf\n"


def zip_bomb_pptx(path: Path, megabytes: int = 200) -> Path:
    """A 'pptx' with the expected parts and 200 MB of zeros: about a 200 KB file."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        archive.writestr("ppt/presentation.xml", "<p/>")
        with archive.open("ppt/media/zeros.bin", "w", force_zip64=True) as member:
            block = bytes(1 << 20)
            for _ in range(megabytes):
                member.write(block)
    return path


def lying_zip_bomb_pptx() -> bytes:
    """An entry whose header claims 1 KB but which inflates to 20 MB (CRC of the claim)."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        archive.writestr("ppt/presentation.xml", "<p/>")
        archive.writestr("ppt/media/zeros.bin", bytes(20 << 20))
    data = bytearray(raw.getvalue())
    # Rewrite the declared uncompressed size of the last entry (local and central headers).
    name = b"ppt/media/zeros.bin"
    real = struct.pack("<I", 20 << 20)
    fake = struct.pack("<I", 1024)
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while True:
            at = data.find(sig, start)
            if at < 0:
                break
            if name in data[at : at + 80] and data[at + offset : at + offset + 4] == real:
                data[at + offset : at + offset + 4] = fake
            start = at + 4
    return bytes(data)


def macro_docx() -> bytes:
    return office("docx", {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"})


def zip_not_office() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return out.getvalue()


def pixel_flood_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims 10 gigapixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def truncated_png() -> bytes:
    return image("PNG", size=(600, 400))[:200]


def svg() -> bytes:
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
        b"<circle r='5'/></svg>"
    )


def broken_mp4() -> bytes:
    return mp4(4096)[:-100]  # the media box claims more than is there
