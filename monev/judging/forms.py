from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from monev.core.forms import TOO_LONG, ConfirmForm, MonevForm, optional_int, strip
from monev.judging.models import DROP_REASON_MAX, VISIT_ADDRESS_MAX, VISIT_NAME_MAX


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SettingsForm(MonevForm):
    judges_see_names = BooleanField(_l("Judges see the KIMs' names (otherwise only coded ids)"))


class JudgeForm(MonevForm):
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the judge's name.")), Length(max=120, message=TOO_LONG)],
    )
    email = EmailField(
        _l("E-mail"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the judge's e-mail address.")),
            Email(_l("Enter a valid e-mail address.")),
            Length(max=254, message=TOO_LONG),
        ],
    )
    institution = StringField(
        _l("Institution"),
        filters=[strip],
        validators=[Optional(), Length(max=160, message=TOO_LONG)],
    )
    home_district_id = SelectField(_l("Home kabupaten/kota"), coerce=optional_int)
    stages = MultiCheckboxField(_l("Panels (stages this judge scores)"), coerce=int)


class EditJudgeForm(MonevForm):
    home_district_id = SelectField(_l("Home kabupaten/kota"), coerce=optional_int)
    stages = MultiCheckboxField(_l("Panels (stages this judge scores)"), coerce=int)


class ConflictForm(MonevForm):
    judge_id = SelectField(_l("Judge"), coerce=optional_int)
    entry_id = SelectField(_l("Entry"), coerce=optional_int)
    reason = TextAreaField(
        _l("Reason"), validators=[Optional(), Length(max=1000, message=TOO_LONG)]
    )


class DeclareConflictForm(ConfirmForm):
    """A judge's conflict of interest: the reason, and the confirmation step (only the
    organiser can undo it)."""

    reason = TextAreaField(
        _l("What is the conflict?"),
        validators=[
            DataRequired(_l("Give a short reason.")),
            Length(max=1000, message=TOO_LONG),
        ],
    )


class FinaliseForm(ConfirmForm):
    """The confirmation step of finalising a sheet. The step also posts the version of the
    sheet it stated, so a change made since (another tab) is refused, not finalised unseen."""

    confirm = BooleanField(_l("I have checked the scores and want to finalise this sheet"))


class DeletePhotoForm(ConfirmForm):
    """The confirmation step of removing a visit photo from the judge's sheet."""

    confirm = BooleanField(_l("I want to remove this photo"))


class AssignForm(MonevForm):
    entry_id = SelectField(_l("Entry"), coerce=optional_int)
    judge_id = SelectField(_l("Judge"), coerce=optional_int)


class ReopenForm(MonevForm):
    reason = TextAreaField(
        _l("Why is the sheet reopened?"),
        validators=[DataRequired(_l("Give a short reason.")), Length(max=1000, message=TOO_LONG)],
    )


class DropForm(ConfirmForm):
    """The confirmation step of dropping a sheet that is not final: the reason, stated in the
    results and the Berita Acara."""

    reason = TextAreaField(
        _l("Why is this sheet dropped?"),
        filters=[strip],
        validators=[
            DataRequired(
                _l("Give the reason for dropping this sheet: it is stated in the results.")
            ),
            Length(max=DROP_REASON_MAX, message=TOO_LONG),
        ],
    )


class ScheduleForm(MonevForm):
    start = DateTimeLocalField(
        _l("First slot starts"),
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(_l("Enter when the first slot starts."))],
    )
    minutes = IntegerField(
        _l("Minutes per entry"),
        default=20,
        validators=[
            DataRequired(_l("Enter the length of a slot.")),
            NumberRange(min=5, max=240, message=_l("Enter a number from 5 to 240.")),
        ],
    )
    gap = IntegerField(
        _l("Minutes between slots"),
        default=5,
        validators=[
            Optional(),
            NumberRange(min=0, max=120, message=_l("Enter a number from 0 to 120.")),
        ],
    )
    room = StringField(
        _l("Room"), filters=[strip], validators=[Optional(), Length(max=120, message=TOO_LONG)]
    )


class SlotForm(MonevForm):
    start = DateTimeLocalField(_l("Starts"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    minutes = IntegerField(
        _l("Minutes"),
        validators=[
            Optional(),
            NumberRange(min=5, max=240, message=_l("Enter a number from 5 to 240.")),
        ],
    )
    room = StringField(
        _l("Room"), filters=[strip], validators=[Optional(), Length(max=120, message=TOO_LONG)]
    )


class PaperUploadForm(MonevForm):
    file = FileField(_l("Filled Excel file (.xlsx)"))
    finalise = BooleanField(_l("Mark sheets that are complete as final (signed paper forms)"))


class VisitForm(MonevForm):
    start = DateTimeLocalField(
        _l("Date and time of the visit"),
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(_l("Enter the date and time of the visit."))],
    )
    address = TextAreaField(
        _l("The KIM's address"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the KIM's address.")),
            Length(max=VISIT_ADDRESS_MAX, message=TOO_LONG),
        ],
    )
    latitude = StringField(
        _l("Latitude"), filters=[strip], validators=[Optional(), Length(max=20, message=TOO_LONG)]
    )
    longitude = StringField(
        _l("Longitude"), filters=[strip], validators=[Optional(), Length(max=20, message=TOO_LONG)]
    )


class ConfirmVisitForm(MonevForm):
    """The KIM representative confirms a visit on a team judge's device: their name, and a
    drawn signature (``signature``: the canvas as a PNG data URL, filled by
    static/js/signature.js) or the ticked confirmation with the typed name."""

    name = StringField(
        _l("The representative's full name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the representative's full name.")),
            Length(max=VISIT_NAME_MAX, message=TOO_LONG),
        ],
    )
    signature = HiddenField()
    typed = BooleanField(
        _l("The representative confirms with the typed name, without a drawn signature")
    )
