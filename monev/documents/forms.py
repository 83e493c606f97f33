"""The form that signs the official documents (TTE)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, Length, Optional, Regexp

from monev.core.forms import TOO_LONG, ConfirmForm, strip


class SignDocumentsForm(ConfirmForm):
    kind = HiddenField(validators=[AnyOf(("berita-acara", "sk", "rapor"))])
    # Only with a remote signing service; sent to it and never stored.
    nik = StringField(
        _l("Signatory's NIK"),
        filters=[strip],
        validators=[
            Optional(),
            Regexp(r"^\d{16}$", message=_l("A NIK has 16 digits.")),
        ],
    )
    passphrase = PasswordField(
        _l("Passphrase"), validators=[Optional(), Length(max=200, message=TOO_LONG)]
    )
    otp = StringField(
        _l("Or one-time code"),
        filters=[strip],
        validators=[Optional(), Length(max=20, message=TOO_LONG)],
    )
