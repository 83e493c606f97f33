"""The QR code on a certificate: the verification URL it encodes, as inline SVG or as PDF
vector operators drawn into the box the template leaves empty."""

from __future__ import annotations

import zxingcpp

from monev.auth.services import external_url
from monev.certificates.models import Certificate


def verify_url(cert: Certificate) -> str:
    return external_url("certificates.verify", code=cert.code)


# Where the QR code sits on a certificate (mm from the page's top-left corner); the template
# leaves this box empty and rendering.py draws the code there as PDF vector operators.
# It sits 4 mm higher than it did before short codes: the code under it takes two lines
# (so it stays left of the signatories' columns, however many there are).
QR_BOX = {"left": 24, "top": 149, "size": 30}
QR_BORDER = 2  # quiet zone, in modules


def qr_matrix(url: str) -> list[list[bool]]:
    """The modules of the QR code of ``url`` (error correction M, best mask), dark = True.
    Encoded by zxing-cpp (C++): 0.4 ms a code, where a pure-Python encoder took 14 ms."""
    code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = code.to_image(scale=1, add_quiet_zones=False)
    width = image.shape[1]
    pixels = bytes(image)
    return [[pixels[r * width + c] < 128 for c in range(width)] for r in range(image.shape[0])]


def _runs(matrix: list[list[bool]]):
    """(row, first column, length) of each horizontal run of dark modules."""
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                yield r, start, c - start
            else:
                c += 1


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as inline SVG: one ``<path>``, no external references."""
    matrix = qr_matrix(url)
    size = len(matrix) + 2 * QR_BORDER
    path = "".join(f"M{c + QR_BORDER} {r + QR_BORDER}h{n}v1h-{n}z" for r, c, n in _runs(matrix))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}">'
        f'<path fill="#000" d="{path}"/></svg>'
    )


def qr_operators(url: str, page_height_mm: float = 210) -> bytes:
    """PDF content operators drawing the QR code of ``url`` in ``QR_BOX``: one filled path
    of rectangles, each row's neighbouring dark modules merged into one."""
    matrix = qr_matrix(url)
    mm = 72 / 25.4
    unit = QR_BOX["size"] * mm / (len(matrix) + 2 * QR_BORDER)
    left = QR_BOX["left"] * mm
    top = (page_height_mm - QR_BOX["top"]) * mm
    parts = ["q 0 g"]
    for r, c, n in _runs(matrix):
        x = left + (c + QR_BORDER) * unit
        y = top - (r + QR_BORDER + 1) * unit
        parts.append(f"{x:.3f} {y:.3f} {n * unit:.3f} {unit:.3f} re")
    parts.append("f Q")
    return "\n".join(parts).encode("ascii")
