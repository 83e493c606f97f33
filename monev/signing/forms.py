"""The signatory's fields for a remote signing service (BSrE style): NIK and passphrase, or a
one-time code. Shown only when that service is configured; what is typed is handed to the
signing in memory and never stored (PasswordField: not even sent back in the page)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import Length, Optional, Regexp

from monev.core.errors import ServiceError
from monev.core.forms import TOO_LONG, strip
from monev.signing.backends import Credentials


class SignatoryFields:
    """Mixed into a FlaskForm: the three fields (all optional here; ``credentials`` says
    what is missing when the remote service needs them)."""

    nik = StringField(
        _l("Signatory's NIK"),
        filters=[strip],
        validators=[Optional(), Regexp(r"^\d{16}$", message=_l("A NIK has 16 digits."))],
    )
    passphrase = PasswordField(
        _l("Passphrase"), validators=[Optional(), Length(max=200, message=TOO_LONG)]
    )
    otp = StringField(
        _l("Or one-time code"),
        filters=[strip],
        validators=[Optional(), Length(max=20, message=TOO_LONG)],
    )

    def credentials(self) -> Credentials:
        """What was typed, or ServiceError (beside the NIK) when something is missing."""
        if not self.nik.data or not (self.passphrase.data or self.otp.data):
            raise ServiceError(
                _("Enter the signatory's NIK and passphrase or one-time code."), field="nik"
            )
        return Credentials(
            nik=self.nik.data, passphrase=self.passphrase.data or "", otp=self.otp.data or ""
        )
