from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from monev.core.forms import TOO_LONG, ConfirmForm, MonevForm, choices, strip
from monev.entries.standing import DISQUALIFY_REASONS, NOTE_MAX, REASONS
from monev.lifecycle.selection import KIND_LABELS, REASON_MAX


class MoveForm(ConfirmForm):
    """The confirmation step of a phase move: each warning acknowledged, then confirmed."""

    acknowledge = SelectMultipleField(
        _l("I have read this warning"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,  # the service checks them against the live checklist
    )
    confirm = BooleanField(_l("I have read what this move will do"))

    def fill(self, warnings) -> None:
        self.acknowledge.choices = choices((c.code, c.message) for c in warnings)


class StandingNoteForm(MonevForm):
    note = TextAreaField(
        _l("Reason (kept in the audit log, not shown publicly)"),
        filters=[strip],
        validators=[Optional(), Length(max=NOTE_MAX, message=TOO_LONG)],
    )


class DisqualifyForm(StandingNoteForm):
    reason = SelectField(
        _l("Reason category (shown publicly)"),
        choices=choices(
            [("", _l("Choose…"))] + [(code, REASONS[code]) for code in DISQUALIFY_REASONS]
        ),
        validate_choice=False,  # the service names a wrong one beside the field
    )


class SelectionRuleForm(MonevForm):
    """One category's selection rule after a stage (the service checks what the rule needs)."""

    kind = RadioField(
        _l("How entries advance"),
        choices=choices(
            [("", _l("No selection: every entry advances"))] + list(KIND_LABELS.items())
        ),
        default="",
        validate_choice=False,  # the service names a wrong one beside the field
    )
    count = IntegerField(_l("How many entries advance"), validators=[Optional()])
    min_score = DecimalField(_l("Pass mark (0–100)"), places=2, validators=[Optional()])
    chosen = SelectMultipleField(
        _l("Entries the jury selects"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,  # the service checks them against the category's entries
    )
    reason = TextAreaField(
        _l("The jury's reason"),
        filters=[strip],
        validators=[Optional(), Length(max=REASON_MAX, message=TOO_LONG)],
    )


class SelectionConfirmForm(ConfirmForm):
    """The confirmation step of a selection between stages."""


class SelectionUndoForm(MonevForm):
    note = TextAreaField(
        _l("Reason for undoing (kept in the audit log)"),
        filters=[strip],
        validators=[Optional(), Length(max=REASON_MAX, message=TOO_LONG)],
    )
