"""Paper score forms, the entry point the views call: the printable form and the Excel
template (:mod:`monev.judging.paper_template`), and the import of filled templates with its
preview (:mod:`monev.judging.paper_import`)."""

from __future__ import annotations

from monev.judging.paper_import import (
    Applied,
    CellProblem,
    Change,
    ImportRefused,
    Preview,
    apply_upload,
    preview_upload,
)
from monev.judging.paper_template import XLSX, build_template, printable_form, template_file

__all__ = [
    "Applied",
    "CellProblem",
    "Change",
    "ImportRefused",
    "Preview",
    "XLSX",
    "apply_upload",
    "build_template",
    "preview_upload",
    "printable_form",
    "template_file",
]
