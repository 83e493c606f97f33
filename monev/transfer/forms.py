"""The upload form of the event package and rubric import pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired

from monev.core.forms import MonevForm


class PackageUploadForm(MonevForm):
    file = FileField(
        _l("Event package (JSON)"),
        validators=[FileRequired(_l("Choose the file to import."))],
        render_kw={"accept": ".json,application/json"},
    )


class RubricUploadForm(MonevForm):
    file = FileField(
        _l("Rubric (Excel or JSON)"),
        validators=[FileRequired(_l("Choose the file to import."))],
        render_kw={
            "accept": ".xlsx,.json,application/json,"
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        },
    )
