from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from monev.core.forms import MonevForm

COLOUR = Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("A colour like #0b4f6c."))


class IssueForm(MonevForm):
    kind = HiddenField(validators=[DataRequired()])


class ReasonForm(MonevForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class SettingsForm(MonevForm):
    number_pattern = StringField(_l("Number pattern"), validators=[DataRequired(), Length(max=120)])
    place = StringField(_l("Place of signing"), validators=[Optional(), Length(max=120)])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=120)])
    winner_text = TextAreaField(_l("Wording for winners"), validators=[Optional()])
    participant_text = TextAreaField(_l("Wording for participants"), validators=[Optional()])
    judge_text = TextAreaField(_l("Wording for judges"), validators=[Optional()])
    primary_colour = StringField(_l("Main colour"), validators=[DataRequired(), COLOUR])
    accent_colour = StringField(_l("Accent colour"), validators=[DataRequired(), COLOUR])
    signatories = TextAreaField(
        _l("Signatories"),
        description=_l("One per line: name | title | NIP"),
        validators=[Optional(), Length(max=2000)],
    )
