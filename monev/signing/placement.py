"""Where the visible signature goes: in the blank space above the signatory's name (the space
a wet signature would take), found in the rendered PDF itself, so the same rule serves
certificates, the Berita Acara, the SK and the rapor whatever their layout."""

from __future__ import annotations

from dataclasses import dataclass

MM = 72 / 25.4
HEIGHT = 15 * MM  # the blank signing space of the templates is 16 to 24 mm
MIN_HEIGHT = 10 * MM  # the TTE box's three lines, never squeezed below this
WIDTH = 56 * MM
GAP = 1.5  # points kept free between the box and what is above or below it
BACKGROUND_SHARE = 0.4  # an image larger than this share of the page is a background


@dataclass(frozen=True)
class Box:
    page: int  # 0-based
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 in PDF points from the bottom left


def above_name(pdf: bytes, name: str | None) -> Box:
    """The box above the last occurrence of ``name`` on the last page that has it (searched
    from the end), in the blank space between the name and what is above it (the role, a
    date): never over a word or an image of the page (a scanned signature left in the
    space would only make the box lower). Without a name or when it is not found, the
    bottom right of the last page."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        count = len(doc)
        if name and name.strip():
            for index in range(count - 1, -1, -1):
                page = doc[index]
                found = _last_match(page, name.strip())
                if found is not None:
                    left, bottom, right, top = found
                    width = page.get_width()
                    things = obstacles(page)
                    y1 = top + GAP
                    # A block set flush left (the SK: "Ditetapkan di …", the office, the
                    # name, the NIP all start at one x): the box starts where the name
                    # starts; a centred block (lines of other lengths): centred on the name.
                    flush_left = (
                        sum(
                            1
                            for left_, b, _r, t in things
                            if abs(left_ - left) < 1.5
                            and (b >= top or t <= bottom)  # not the name's own line
                            and bottom - 3 * HEIGHT <= b <= top + 3 * HEIGHT
                        )
                        >= 2
                    )
                    start = left if flush_left else (left + right) / 2 - WIDTH / 2
                    x1 = max(2.0, min(start, width - WIDTH - 2))
                    x2 = x1 + WIDTH
                    # The lowest word or image above the name, across the box's width.
                    ceiling = min(
                        (
                            b
                            for left_, b, right_, _t in things
                            if left_ < x2 and right_ > x1 and b >= y1 - GAP
                        ),
                        default=y1 + HEIGHT + GAP,
                    )
                    height = max(MIN_HEIGHT, min(HEIGHT, ceiling - GAP - y1))
                    return Box(index, (round(x1), round(y1), round(x2), int(y1 + height)))
        page = doc[count - 1]
        width = page.get_width()
        return Box(
            count - 1,
            (
                round(width - WIDTH - 20 * MM),
                round(25 * MM),
                round(width - 20 * MM),
                round(25 * MM + HEIGHT),
            ),
        )
    finally:
        doc.close()


def obstacles(page) -> list[tuple[float, float, float, float]]:
    """The boxes (left, bottom, right, top) of the page's words and images, a page-sized
    background image left out: what a signature box must not cover."""
    import pypdfium2.raw as pdfium_c

    found = []
    text = page.get_textpage()
    try:
        for i in range(text.count_rects()):
            found.append(text.get_rect(i))
    finally:
        text.close()
    area = page.get_width() * page.get_height()
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=5):
        left, bottom, right, top = obj.get_bounds()
        if (right - left) * (top - bottom) < BACKGROUND_SHARE * area:
            found.append((left, bottom, right, top))
    return found


def _last_match(page, name: str):
    text = page.get_textpage()
    try:
        searcher = text.search(name, match_case=True, match_whole_word=False)
        last = None
        while (hit := searcher.get_next()) is not None:
            last = hit
        if last is None:
            return None
        start, count = last
        boxes = [text.get_charbox(i) for i in range(start, start + count)]
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
    finally:
        text.close()
