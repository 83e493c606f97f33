"""The form that signs the official documents (TTE)."""

from __future__ import annotations

from wtforms import HiddenField
from wtforms.validators import AnyOf

from monev.core.forms import ConfirmForm
from monev.signing.forms import SignatoryFields


class SignDocumentsForm(SignatoryFields, ConfirmForm):
    kind = HiddenField(validators=[AnyOf(("berita-acara", "sk", "rapor"))])
    # nik, passphrase, otp: only with a remote signing service; sent to it, never stored.
