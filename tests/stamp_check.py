"""The visible electronic signature (TTE box) of a signed PDF, checked from the PDF itself:
where the signature field is, that it is drawn, what it says, and that it covers no word and
no image of its page (the signatory's name, a scanned signature, the role above it)."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

Rect = tuple[float, float, float, float]  # left, bottom, right, top (PDF points)


@dataclass
class Stamp:
    page: int
    rect: Rect
    name: Rect  # the signatory's name under it
    words: list[tuple[str, Rect]]  # every character of the page with its box
    images: list[Rect]  # every image of the page but a page-sized background
    text: str  # what the box says


def _field(pdf: bytes) -> tuple[int, Rect]:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for index, page in enumerate(doc.pages):
            for annot in page.obj.get("/Annots", []):
                kind = annot.get("/FT") or annot.get("/Parent", {}).get("/FT")
                if kind == "/Sig":
                    x1, y1, x2, y2 = (float(v) for v in annot.Rect)
                    return index, (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
    raise AssertionError("no signature field")


def _name_box(page, name: str) -> Rect:
    text = page.get_textpage()
    searcher = text.search(name, match_case=True)
    last = None
    while (hit := searcher.get_next()) is not None:
        last = hit
    assert last is not None, f"{name!r} is not on the stamp's page"
    boxes = [text.get_charbox(i) for i in range(last[0], last[0] + last[1])]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def intersects(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def stamp_of(pdf: bytes, name: str, *, shot: str | None = None) -> Stamp:
    """The TTE box of ``pdf``, placed above ``name``. With $MONEV_SHOTS_DIR set, the page
    (and the box with its surroundings, enlarged) are written there as PNG."""
    index, rect = _field(pdf)
    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[index]
        name_box = _name_box(page, name)
        text = page.get_textpage()
        words = []
        for i in range(text.count_chars()):
            char = text.get_text_range(i, 1)
            if char.strip():
                words.append((char, text.get_charbox(i)))
        area = page.get_width() * page.get_height()
        images = []
        for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=5):
            left, bottom, right, top = obj.get_bounds()
            if (right - left) * (top - bottom) < 0.4 * area:
                images.append((left, bottom, right, top))
        doc.init_forms()
        drawn = doc[index].render(scale=2, may_draw_forms=True).to_pil().convert("L")
        height = page.get_height()
        crop = drawn.crop(
            tuple(int(v * 2) for v in (rect[0], height - rect[3], rect[2], height - rect[1]))
        )
        assert crop.getextrema()[0] < 100, "the signature box is not drawn"
        folder = os.environ.get("MONEV_SHOTS_DIR")
        if folder and shot:
            drawn.save(f"{folder}/{shot}-page.png")
            drawn.crop(
                tuple(
                    int(v * 2)
                    for v in (
                        max(0, rect[0] - 80),
                        max(0, height - rect[3] - 60),
                        min(page.get_width(), rect[2] + 80),
                        min(height, height - name_box[1] + 30),
                    )
                )
            ).save(f"{folder}/{shot}-stamp.png")
    finally:
        doc.close()
    flat = pdfium.PdfDocument(pdf)
    try:
        flat.init_forms()
        flat[index].flatten()  # the box's appearance becomes page content, with its text
        said = flat[index].get_textpage().get_text_bounded(*rect)
    finally:
        flat.close()
    return Stamp(index, rect, name_box, words, images, " ".join(said.split()))


def assert_stamp_clear(pdf: bytes, name: str, *, shot: str | None = None) -> Stamp:
    """The box sits just above ``name`` and covers no character and no image of its page."""
    stamp = stamp_of(pdf, name, shot=shot)
    left, bottom, right, top = stamp.rect
    assert bottom >= stamp.name[3], "the box reaches into the name"
    assert bottom - stamp.name[3] < 15, "the box is not just above the name"
    assert left < stamp.name[2] and stamp.name[0] < right, "the box is not above the name"
    covered = "".join(char for char, box in stamp.words if intersects(stamp.rect, box))
    assert covered == "", f"the box covers the text {covered!r}"
    assert not [box for box in stamp.images if intersects(stamp.rect, box)], "covers an image"
    assert "Ditandatangani secara elektronik oleh" in stamp.text, stamp.text
    return stamp
