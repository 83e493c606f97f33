"""What the visible electronic signature looks like: a TTE box as an Indonesian official
expects it in place of a wet signature, "Ditandatangani secara elektronik oleh" the
certificate's holder, and when (written as on every page, in the site's zone), on a solid
white ground with a thin frame, in the documents' own font (Noto Sans).

The box is laid out by WeasyPrint as a one-page PDF of exactly the field's size (wrapping a
long name, never scaled down to an unreadable size) and pyHanko draws that page as the
field's appearance (monev.signing.backends). The same text and size give the same page: a
batch lays it out once per process."""

from __future__ import annotations

import functools
import html
import io

from config import APP_FILES

FONTS = APP_FILES / "static" / "fonts" / "noto-sans"
HEADING = "Ditandatangani secara elektronik oleh"
BADGE = "TTE"


def stamp_html(width: float, height: float, signer: str, waktu: str) -> str:
    """The box of ``width`` x ``height`` points as one HTML page."""
    long_name = len(signer) > 34
    return f"""<!doctype html><html lang="id"><head><meta charset="utf-8"><style>
@font-face {{ font-family: "Stamp Sans"; font-weight: 400;
  src: url("{(FONTS / "noto-sans-latin-400-normal.ttf").as_uri()}"); }}
@font-face {{ font-family: "Stamp Sans"; font-weight: 700;
  src: url("{(FONTS / "noto-sans-latin-700-normal.ttf").as_uri()}"); }}
@page {{ size: {width}pt {height}pt; margin: 0; background: #fff; }}
html, body {{ margin: 0; }}
.box {{ box-sizing: border-box; width: {width}pt; height: {height}pt; position: relative;
  border: 0.8pt solid #0b4f6c; background: #fff; font-family: "Stamp Sans"; color: #111; }}
.badge {{ position: absolute; left: 0; top: 0; width: 15pt; height: {height - 1.6}pt;
  background: #0b4f6c; }}
.badge p {{ margin: 0; color: #fff; font-weight: 700; font-size: 6.5pt; text-align: center;
  line-height: {height - 1.6}pt; }}
table {{ position: absolute; left: 15pt; top: 0; width: {width - 16.6}pt;
  height: {height - 1.6}pt; border-collapse: collapse; }}
td {{ vertical-align: middle; padding: 1pt 4pt; height: {height - 3.6}pt; }}
td p {{ margin: 0; line-height: 1.2; }}
.heading {{ font-size: 6.5pt; }}
.signer {{ font-size: {6.8 if long_name else 7.8}pt; font-weight: 700; overflow-wrap: break-word; }}
.when {{ font-size: 6.5pt; color: #333; }}
</style></head><body><div class="box">
<div class="badge"><p>{BADGE}</p></div>
<table><tr><td><p class="heading">{HEADING}</p>
<p class="signer">{html.escape(signer)}</p>
<p class="when">{html.escape(waktu)}</p></td></tr></table></div></body></html>"""


@functools.lru_cache(maxsize=16)
def stamp_pdf(width: float, height: float, signer: str, waktu: str) -> bytes:
    """The box as a one-page PDF of exactly ``width`` x ``height`` points."""
    from weasyprint import HTML

    return HTML(string=stamp_html(width, height, signer, waktu)).write_pdf()


def stamp_style(width: float, height: float, signer: str, waktu: str):
    """The pyHanko stamp style drawing the box into a field of ``width`` x ``height``."""
    from pyhanko.pdf_utils import layout
    from pyhanko.stamp import StaticStampStyle

    return StaticStampStyle(
        background=_PdfPage(stamp_pdf(width, height, signer, waktu)),
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(0),
        ),
        background_opacity=1.0,
        border_width=0,
    )


def _PdfPage(data: bytes):  # noqa: N802 (a class made on first use: pyHanko loads lazily)
    from pyhanko.pdf_utils.content import ImportedPdfPage
    from pyhanko.pdf_utils.reader import PdfFileReader

    class PdfPageOfBytes(ImportedPdfPage):
        """pyHanko's imported page, from bytes in memory instead of a file."""

        def render(self) -> bytes:
            import binascii
            import uuid

            from pyhanko.pdf_utils.layout import BoxConstraints

            xobj = self._ensure_writer.import_page_as_xobject(
                PdfFileReader(io.BytesIO(data)), page_ix=0
            )
            name = b"/Stamp" + binascii.hexlify(uuid.uuid4().bytes)
            self.resources.xobject[name.decode("ascii")] = xobj
            x1, y1, x2, y2 = xobj.get_object()["/BBox"]
            self.box = BoxConstraints(width=abs(x1 - x2), height=abs(y1 - y2))
            return name + b" Do"

    return PdfPageOfBytes("", page_ix=0)
