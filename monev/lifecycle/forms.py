from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from monev.core.forms import MonevForm, choices


class MoveForm(MonevForm):
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
