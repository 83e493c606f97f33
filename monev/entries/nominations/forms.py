"""Nomination forms: an existing KIM, a new KIM inline, and the organiser's decision."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from monev.core.forms import TOO_LONG, MonevForm, choices, optional_int, strip
from monev.directory.forms import KimForm
from monev.entries.nominations.services import NOTE_MAX


def _category_field():
    return SelectField(
        _l("Category"),
        coerce=optional_int,
        validate_choice=False,  # the service refuses another event's category
        validators=[DataRequired(_l("Choose a category."))],
    )


def _note_field():
    return TextAreaField(
        _l("Note for the organiser"),
        filters=[strip],
        validators=[Optional(), Length(max=NOTE_MAX, message=TOO_LONG)],
    )


class NominateForm(MonevForm):
    """Nominate a KIM already in the directory."""

    kim_id = SelectField(
        _l("KIM"),
        coerce=optional_int,
        validate_choice=False,  # the service refuses another district's KIM as not found
        validators=[DataRequired(_l("Choose a KIM."))],
    )
    category_id = _category_field()
    email = EmailField(
        _l("E-mail for the KIM account"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=254, message=TOO_LONG),
            Email(_l("Enter a valid e-mail address, like nama@contoh.id.")),
        ],
    )
    note = _note_field()


class NewKimNominationForm(MonevForm):
    """Add a KIM to the district and nominate it; the profile is completed later."""

    name = KimForm.name
    kecamatan = KimForm.kecamatan
    village_kind = KimForm.village_kind
    village = KimForm.village
    chair_name = KimForm.chair_name
    phone = KimForm.phone
    email = KimForm.email
    category_id = _category_field()
    note = _note_field()

    def kim_data(self) -> dict:
        return {
            name: self[name].data
            for name in (
                "name",
                "kecamatan",
                "village_kind",
                "village",
                "chair_name",
                "phone",
                "email",
            )
        }


class DecisionForm(MonevForm):
    decision = SelectField(
        _l("Decision"),
        choices=choices([("accepted", _l("Accept")), ("rejected", _l("Reject"))]),
        validators=[DataRequired(_l("Choose to accept or to reject the nomination."))],
    )
    note = TextAreaField(
        _l("Note to the district"),
        filters=[strip],
        validators=[Optional(), Length(max=NOTE_MAX, message=TOO_LONG)],
    )


def fill_choices(form, kims=None, categories=()) -> None:
    if kims is not None and hasattr(form, "kim_id"):
        form.kim_id.choices = choices(
            [("", _l("— choose a KIM —"))]
            + [(k.id, f"{k.name}" + (f" ({k.village.label})" if k.village else "")) for k in kims]
        )
    form.category_id.choices = choices(
        [("", _l("— choose —"))] + [(c.id, c.name) for c in categories]
    )
