"""Helpers shared by forms and the views that use them."""

from __future__ import annotations

from flask import g
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.fields import FieldList, FormField
from wtforms.fields.choices import SelectChoice

from monev.core.errors import ServiceError


def attach_error(form, error: ServiceError) -> None:
    """Show a service's refusal beside its field, or at the top of the form. ``error.field``
    is a field's name in the form, or the full name of a field in a list of sub-forms
    (``signatories-0-signature``)."""
    field = _field_named(form, error.field) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def _field_named(form, name: str):
    field = getattr(form, name, None)
    if field is not None:
        return field
    for candidate in _all_fields(form):
        if candidate.name == name:
            return candidate
    return None


def _all_fields(fields):
    """Every field of a form, including those of its field lists and sub-forms."""
    for field in fields:
        yield field
        if isinstance(field, FieldList | FormField):
            yield from _all_fields(field)


def keep_changes_on_error() -> None:
    """Commit what this request recorded even though it answers with an error status."""
    g.commit_on_error = True


def form_data(form) -> dict:
    """Every field's value by name, without the CSRF token (what a service is given)."""
    return {name: field.data for name, field in form._fields.items() if name != "csrf_token"}


TOO_LONG = _l("Use at most %(max)d characters.")


def strip(value):
    return value.strip() if isinstance(value, str) else value


def choices(pairs) -> list[SelectChoice]:
    """Select options from ``(value, label)`` pairs (WTForms 3.3 deprecates bare tuples)."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def optional_int(value):
    """Coerce for select fields whose empty choice means 'none'."""
    if value in (None, "", "None"):
        return None
    return int(value)


class _BabelTranslations:
    """WTForms' built-in messages through our own catalog (WTForms ships no Indonesian)."""

    def gettext(self, string):
        from flask_babel import get_translations

        return get_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        from flask_babel import get_translations

        return get_translations().ungettext(singular, plural, n)


_translations = _BabelTranslations()


class MonevForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _translations


class EmptyForm(MonevForm):
    """A form with only the CSRF token, for buttons that post."""


class ConfirmForm(MonevForm):
    """The confirmation step of an irreversible action: the consequences were shown, and the
    person ticks that they read them (the service refuses without it,
    :func:`monev.core.errors.require_confirmation`). Subclass it to add the action's fields."""

    confirm = BooleanField(_l("I have read what this will do"))


# WTForms' own messages that our forms can show, marked so they are in the catalog.
_WTFORMS_MESSAGES = (
    _l("This field is required."),
    _l("Not a valid choice."),
    _l("Not a valid date value."),
    _l("Not a valid datetime value."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
    _l("Invalid email address."),
    _l("Invalid input."),
    lazy_ngettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
        1,
    ),
    lazy_ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        1,
    ),
    _l("The CSRF token is missing."),
    _l("The CSRF token is invalid."),
    _l("The CSRF token has expired."),
    _l("The CSRF tokens do not match."),
    _l("CSRF token missing."),
)
