from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from monev.core.forms import TOO_LONG, MonevForm, strip

EMAIL_REQUIRED = _l("Enter your e-mail address.")
EMAIL_INVALID = _l("Enter a valid e-mail address, like nama@contoh.id.")


class LoginForm(MonevForm):
    email = EmailField(
        _l("E-mail"),
        filters=[strip],
        validators=[
            DataRequired(EMAIL_REQUIRED),
            Length(max=254, message=TOO_LONG),
            Email(EMAIL_INVALID),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=1024, message=TOO_LONG)],
    )


class ForgotPasswordForm(MonevForm):
    email = EmailField(
        _l("E-mail"),
        filters=[strip],
        validators=[
            DataRequired(EMAIL_REQUIRED),
            Length(max=254, message=TOO_LONG),
            Email(EMAIL_INVALID),
        ],
    )


class SetPasswordForm(MonevForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a password."))],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(_l("Repeat the password."))],
    )


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password."))],
    )


class ChannelsForm(MonevForm):
    """Where notifications reach the person besides the in-app list."""

    notify_email = BooleanField(_l("E-mail"))
    notify_whatsapp = BooleanField(_l("WhatsApp"))
    phone = StringField(
        _l("WhatsApp number"),
        filters=[strip],
        validators=[Optional(), Length(max=20, message=TOO_LONG)],
    )


class ProfileForm(MonevForm):
    name = StringField(
        _l("Full name"),
        validators=[
            DataRequired(_l("Enter your name.")),
            Length(max=120, message=TOO_LONG),
        ],
    )
    locale = SelectField(_l("Language"), validators=[Optional()])
