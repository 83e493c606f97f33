"""Where the visible signature goes: in the blank space above the signatory's name (the space
a wet signature would take), found in the rendered PDF itself, so the same rule serves
certificates, the Berita Acara, the SK and the rapor whatever their layout."""

from __future__ import annotations

from dataclasses import dataclass

MM = 72 / 25.4
HEIGHT = 15 * MM  # the blank signing space of the templates is about 17 mm
WIDTH = 55 * MM


@dataclass(frozen=True)
class Box:
    page: int  # 0-based
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 in PDF points from the bottom left


def above_name(pdf: bytes, name: str | None) -> Box:
    """The box above the last occurrence of ``name`` on the last page that has it (searched
    from the end); without a name or when it is not found, the bottom right of the last page."""
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
                    centre = (left + right) / 2
                    x1 = max(2.0, min(centre - WIDTH / 2, width - WIDTH - 2))
                    y1 = top + 1
                    return Box(index, (round(x1), round(y1), round(x1 + WIDTH), round(y1 + HEIGHT)))
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
