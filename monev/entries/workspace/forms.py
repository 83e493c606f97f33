"""Forms of the KIM's workspace and of the organiser's verification."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, DateTimeLocalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from monev.core.forms import TOO_LONG, ConfirmForm, MonevForm, strip
from monev.directory.forms import KimForm
from monev.entries.workspace.services import NOTE_MAX, PROFILE_FIELDS, URL_MAX


class ProfileForm(MonevForm):
    """The entry's profile: the directory's fields a judge reads, pre-filled from it."""

    sk_number = KimForm.sk_number
    sk_date = KimForm.sk_date
    chair_name = KimForm.chair_name
    members_count = KimForm.members_count
    phone = KimForm.phone
    email = KimForm.email
    website = KimForm.website
    social_links = KimForm.social_links
    description = KimForm.description

    validate_sk_date = KimForm.validate_sk_date

    def profile_data(self) -> dict:
        return {name: self[name].data for name in PROFILE_FIELDS}

    def fill(self, values: dict) -> None:
        for name in PROFILE_FIELDS:
            value = values.get(name)
            if name == "social_links":
                value = "\n".join(value or [])
            self[name].data = value


class UploadForm(MonevForm):
    # The file itself is checked by the service (type from its content, size while it arrives).
    file = FileField(_l("File"))


class LinkForm(MonevForm):
    url = StringField(
        _l("Link"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the link.")),
            Length(max=URL_MAX, message=TOO_LONG),
        ],
    )


class SubmitForm(ConfirmForm):
    """The confirmation step of a submit: the KIM read what happens, then sends."""

    confirm = BooleanField(_l("I have checked our entry and want to send it now"))


class SendBackForm(MonevForm):
    note = TextAreaField(
        _l("What must be fixed"),
        filters=[strip],
        validators=[
            DataRequired(_l("Write what the KIM must fix: it is sent to them.")),
            Length(max=NOTE_MAX, message=TOO_LONG),
        ],
    )
    deadline = DateTimeLocalField(
        _l("New deadline for this KIM"),
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(_l("Set the deadline for the fixes."))],
    )
