from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from monev.core.forms import TOO_LONG, ConfirmForm, MonevForm, choices, optional_int, strip
from monev.results.acknowledgements import NOTE_MAX
from monev.results.publication import REASON_MAX


class PublishForm(ConfirmForm):
    """The confirmation step of publishing; for a correction (ralat) the service requires
    the reason."""

    reason = TextAreaField(
        _l("Reason"),
        filters=[strip],
        validators=[Optional(), Length(max=REASON_MAX, message=TOO_LONG)],
    )


class AcknowledgeForm(MonevForm):
    """The organiser's note on one "Check:" of the fairness panel."""

    key = HiddenField(validators=[DataRequired()])
    note = TextAreaField(
        _l("Your note"),
        filters=[strip],
        validators=[
            DataRequired(
                _l("Write what you checked and why the results can stand (or what was done).")
            ),
            Length(max=NOTE_MAX, message=TOO_LONG),
        ],
    )


class SpecialAwardForm(MonevForm):
    entry_id = SelectField(_l("Entry"), coerce=optional_int, validate_choice=False)
    title = StringField(
        _l("Award"),
        filters=[strip],
        validators=[
            DataRequired(_l("Name the award, e.g. KIM Terinovatif.")),
            Length(max=120, message=TOO_LONG),
        ],
    )
    justification = TextAreaField(
        _l("Jury's justification"),
        filters=[strip],
        validators=[
            DataRequired(_l("Record the jury's justification for this award.")),
            Length(max=4000, message=TOO_LONG),
        ],
    )


class AnnounceForm(ConfirmForm):
    closes_at = DateTimeLocalField(
        _l("Objections close"),
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(_l("Set when the objection window closes."))],
    )


class ObjectionForm(MonevForm):
    reason = TextAreaField(
        _l("What do you object to, and why?"),
        filters=[strip],
        validators=[
            DataRequired(_l("Say what you object to and why.")),
            Length(max=4000, message=TOO_LONG),
        ],
    )
    evidence_url = StringField(
        _l("Link to added evidence"),
        filters=[strip],
        validators=[Optional(), Length(max=1000, message=TOO_LONG)],
    )


class ResolveForm(MonevForm):
    decision = SelectField(
        _l("Decision"),
        choices=choices([("rejected", _l("Reject")), ("accepted", _l("Accept"))]),
        validators=[DataRequired()],
    )
    note = TextAreaField(
        _l("Explanation to the KIM"),
        filters=[strip],
        validators=[
            DataRequired(_l("Explain the decision to the KIM.")),
            Length(max=2000, message=TOO_LONG),
        ],
    )
    reopen = BooleanField(_l("Reopen the entry's final sheets so its judges can correct them"))
