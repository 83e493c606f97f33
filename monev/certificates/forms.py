from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from monev.core.forms import TOO_LONG, MonevForm, choices, strip
from monev.signing.forms import SignatoryFields

COLOUR = Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("A colour like #0b4f6c."))
MAX_SIGNATORIES = 3
KIND_CHOICES = (
    ("winner", _l("Winner")),
    ("participant", _l("Participant")),
    ("judge", _l("Judge")),
)


class IssueForm(MonevForm):
    kind = HiddenField(validators=[DataRequired()])


class ReasonForm(MonevForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class SignatoryForm(Form):
    """One signatory (a plain sub-form: the CSRF token belongs to the outer form)."""

    # No Optional(): it would stop the chain before validate_name sees an empty name.
    name = StringField(_l("Name"), validators=[Length(max=120, message=TOO_LONG)])
    title = StringField(_l("Position"), validators=[Optional(), Length(max=160, message=TOO_LONG)])
    nip = StringField(
        _l("NIP"),
        validators=[
            Optional(),
            Regexp(r"^[0-9 ]{1,30}$", message=_l("A NIP has digits only (18 digits).")),
        ],
    )
    signature = FileField(_l("Signature image"))
    remove_signature = BooleanField(_l("Remove the signature image"))

    def validate_name(self, field):
        if not (field.data or "").strip() and ((self.title.data or "").strip() or self.nip.data):
            raise ValidationError(_l("Give the signatory's name, or clear the row."))


# Certificate numbers an organiser picks from, shown as examples ("007/MONEV-KIM/2026");
# "Pola lain" takes a pattern of one's own ({seq}, {year}, {slug}).
NUMBER_PATTERNS = (
    "{seq:03d}/MONEV-KIM/{year}",
    "MONEV-KIM/{year}/{seq:03d}",
    "{seq:03d}/SERT/DISKOMINFO/{year}",
    "{year}-{seq:04d}",
)
CUSTOM = "custom"


class SettingsForm(MonevForm):
    number_style = RadioField(_l("Certificate number"), choices=[], validate_choice=False)
    number_pattern = StringField(
        _l("Another pattern"), filters=[strip], validators=[Length(max=120, message=TOO_LONG)]
    )
    place = StringField(_l("Place of signing"), validators=[Optional(), Length(max=120)])
    title = StringField(
        _l("Title"),
        validators=[
            Optional(),
            Length(max=48, message=_l("A title fits on one line: at most %(max)d characters.")),
        ],
    )
    winner_text = TextAreaField(
        _l("Wording for winners"), validators=[Optional(), Length(max=300, message=TOO_LONG)]
    )
    participant_text = TextAreaField(
        _l("Wording for participants"), validators=[Optional(), Length(max=300, message=TOO_LONG)]
    )
    judge_text = TextAreaField(
        _l("Wording for judges"), validators=[Optional(), Length(max=300, message=TOO_LONG)]
    )
    primary_colour = StringField(_l("Main colour"), validators=[DataRequired(), COLOUR])
    accent_colour = StringField(_l("Accent colour"), validators=[DataRequired(), COLOUR])
    text_colour = StringField(_l("Text colour"), validators=[DataRequired(), COLOUR])
    background = FileField(_l("Background image"))
    remove_background = BooleanField(_l("Remove the background image"))
    signatories = FieldList(
        FormField(SignatoryForm),
        min_entries=MAX_SIGNATORIES,
        max_entries=MAX_SIGNATORIES,
    )
    preview_kind = SelectField(
        _l("Preview as"), choices=choices(KIND_CHOICES), validators=[Optional()]
    )

    def fill_numbers(self, examples: dict[str, str], current: str | None = None) -> None:
        """Offer each preset pattern by its example number (``examples``: pattern → "007/…"),
        then "another pattern". On a fresh form, select the event's ``current`` pattern."""
        self.number_style.choices = [*examples.items(), (CUSTOM, str(_l("Another pattern")))]
        if current is not None and not self.number_style.data:
            self.number_style.data = current if current in examples else CUSTOM
            if self.number_style.data != CUSTOM:
                self.number_pattern.data = ""

    def validate_number_pattern(self, field):
        """The chosen example's pattern, or the organiser's own (then it must be given)."""
        if self.number_style.data in NUMBER_PATTERNS:
            field.data = self.number_style.data
        elif not field.data:
            raise ValidationError(_l("Choose a number, or write your own pattern."))


class VerifyPdfForm(MonevForm):
    """The PDF check on /verify changes and keeps nothing (like a search), so it carries no
    CSRF token: the public verification pages stay without a session and cacheable."""

    class Meta(MonevForm.Meta):
        csrf = False

    file = FileField(_l("Certificate PDF"))


class BatchStartForm(SignatoryFields, MonevForm):
    """Start (or retry) the batch of all certificate files. With a remote signing service the
    signatory's NIK and passphrase or code come with it, for this run only."""
