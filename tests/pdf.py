"""Reading PDFs in tests with pypdfium2 (a wheel: no poppler-utils needed)."""

from __future__ import annotations

import re

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c


def pdf_text(pdf: bytes) -> str:
    """The text of every page, in reading order, with runs of whitespace made one space.

    Spaces PDFium infers from gaps between glyphs are left out (a letter-spaced title stays
    one word, as with poppler's pdftotext); the spaces in the text and line ends are kept."""
    document = pdfium.PdfDocument(pdf)
    try:
        parts = []
        for page in document:
            textpage = page.get_textpage()
            for i in range(pdfium_c.FPDFText_CountChars(textpage)):
                char = chr(pdfium_c.FPDFText_GetUnicode(textpage, i))
                if char == " " and pdfium_c.FPDFText_IsGenerated(textpage, i) == 1:
                    continue
                parts.append(char)
            parts.append("\n")
            textpage.close()
            page.close()
        return re.sub(r"\s+", " ", "".join(parts)).strip()
    finally:
        document.close()


def pdf_page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """(width, height) of every page, in PDF points."""
    document = pdfium.PdfDocument(pdf)
    try:
        return [document.get_page_size(i) for i in range(len(document))]
    finally:
        document.close()
