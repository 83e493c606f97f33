from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from monev.auth.forms import EMAIL_INVALID, EMAIL_REQUIRED
from monev.core.forms import (  # noqa: F401
    TOO_LONG,
    ConfirmForm,
    EmptyForm,
    MonevForm,
    optional_int,
    strip,
)


class UserForm(MonevForm):
    name = StringField(
        _l("Full name"),
        validators=[
            DataRequired(_l("Enter the person's name.")),
            Length(max=120, message=TOO_LONG),
        ],
    )
    role = SelectField(_l("Role"), validators=[DataRequired(_l("Choose a role."))])
    district_id = SelectField(
        _l("Kabupaten/kota (operators)"), coerce=optional_int, validators=[Optional()]
    )
    kim_id = SelectField(_l("KIM (KIM accounts)"), coerce=optional_int, validators=[Optional()])
    institution = StringField(
        _l("Institution (judges)"),
        validators=[Optional(), Length(max=160, message=TOO_LONG)],
    )


class InviteForm(UserForm):
    email = EmailField(
        _l("E-mail"),
        filters=[strip],
        validators=[
            DataRequired(EMAIL_REQUIRED),
            Length(max=254, message=TOO_LONG),
            Email(EMAIL_INVALID),
        ],
    )


class EditUserForm(UserForm):
    active = BooleanField(_l("Account active"))


class TrustRootForm(MonevForm):
    file = FileField(_l("Root certificate (PEM or DER)"))


class RemoveRootForm(ConfirmForm):
    confirm = BooleanField(_l("I understand what this does and want to stop trusting this root"))
