"""PDF: no web-page markup anywhere, readable by pikepdf, no actions that run when opened."""

from __future__ import annotations

from pathlib import Path

from flask_babel import gettext as _

from monev.storage.inspection.filetypes import MARKUP_RE, SCAN_CHUNK, SCAN_OVERLAP, Refused


def contains_markup(path: Path) -> bool:
    tail = b""
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(SCAN_CHUNK), b""):
            if MARKUP_RE.search(tail + chunk):
                return True
            tail = chunk[-SCAN_OVERLAP:]
    return False


def check_pdf(path: Path) -> None:
    import pikepdf

    if contains_markup(path):
        raise Refused(
            _(
                "This PDF also contains web-page code (HTML or script), so it is refused. "
                "Export the document to PDF again from its original program."
            )
        )
    try:
        with pikepdf.open(path) as pdf:
            if len(pdf.pages) == 0:
                raise Refused(_("This PDF has no pages."))
            active = _active_content(pdf)
    except pikepdf.PasswordError as exc:
        raise Refused(
            _(
                "This PDF is protected by a password. Save it without the password and "
                "upload it again."
            )
        ) from exc
    except (pikepdf.PdfError, RecursionError, ValueError, KeyError, TypeError) as exc:
        raise Refused(
            _("This PDF is damaged and cannot be read. Export it to PDF again and re-upload it.")
        ) from exc
    if active:
        raise Refused(
            _(
                "This PDF contains %(what)s, which could run when it is opened, so it is refused. "
                "Print it to a new PDF (or export it again without scripts) and re-upload it.",
                what=active,
            )
        )


def _active_content(pdf) -> str | None:
    """A description of the first active content found, or None."""
    import pikepdf

    names = pikepdf.Name
    root = pdf.Root
    open_action = root.get("/OpenAction")
    if isinstance(open_action, pikepdf.Dictionary):
        return _("an action run on opening (OpenAction)")
    if "/AA" in root:
        return _("actions run on opening (AA)")
    name_tree = root.get("/Names")
    if isinstance(name_tree, pikepdf.Dictionary) and "/JavaScript" in name_tree:
        return _("JavaScript")
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if not isinstance(obj, pikepdf.Dictionary):
            continue
        if "/JS" in obj or obj.get("/S") == names.JavaScript:
            return _("JavaScript")
        if obj.get("/S") in (names.Launch, names.ImportData):
            return _("an action that starts a program (Launch)")
        if "/AA" in obj:
            return _("actions run automatically (AA)")
    return None
