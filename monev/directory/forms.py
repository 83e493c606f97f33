from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from monev.core.forms import TOO_LONG, MonevForm, choices, optional_int, strip

PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{6,18}[0-9]$")
MAX_SOCIAL_LINKS = 10


def valid_web_url(value: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname) and " " not in value


def _url(_form, field):
    if field.data and not valid_web_url(field.data.strip()):
        raise ValidationError(_l("Enter a full web address starting with http:// or https://."))


def _phone(_form, field):
    if field.data and not PHONE_RE.match(field.data.strip()):
        raise ValidationError(_l("Enter a phone number of digits only, like 0812 3456 7890."))


def _social(_form, field):
    lines = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
    if len(lines) > MAX_SOCIAL_LINKS:
        raise ValidationError(_l("Give at most %(n)d links.", n=MAX_SOCIAL_LINKS))
    for line in lines:
        if not valid_web_url(line) or len(line) > 300:
            raise ValidationError(
                _l(
                    "Each line must be a web address starting with https:// (%(line)s).",
                    line=line[:60],
                )
            )


class KimForm(MonevForm):
    name = StringField(
        _l("KIM name"),
        validators=[DataRequired(_l("Enter the KIM's name.")), Length(max=120, message=TOO_LONG)],
    )
    district_id = SelectField(
        _l("Kabupaten/kota"),
        coerce=optional_int,
        validators=[DataRequired(_l("Choose the kabupaten/kota."))],
    )
    kecamatan = StringField(
        _l("Kecamatan"),
        validators=[DataRequired(_l("Enter the kecamatan.")), Length(max=80, message=TOO_LONG)],
    )
    village_kind = SelectField(
        _l("Desa or kelurahan"),
        choices=choices([("desa", _l("Desa")), ("kelurahan", _l("Kelurahan"))]),
        validators=[DataRequired()],
    )
    village = StringField(
        _l("Name of the desa/kelurahan"),
        validators=[
            DataRequired(_l("Enter the desa or kelurahan.")),
            Length(max=80, message=TOO_LONG),
        ],
    )
    sk_number = StringField(
        _l("SK number (decree)"), validators=[Optional(), Length(max=120, message=TOO_LONG)]
    )
    sk_date = DateField(
        _l("SK date"),
        validators=[Optional()],
        format="%Y-%m-%d",
    )
    chair_name = StringField(
        _l("Chairperson"), validators=[Optional(), Length(max=120, message=TOO_LONG)]
    )
    members_count = IntegerField(
        _l("Number of members"),
        validators=[
            Optional(),
            NumberRange(min=1, max=10000, message=_l("Enter a number from 1 to 10,000.")),
        ],
    )
    phone = StringField(
        _l("Phone / WhatsApp"), validators=[Optional(), Length(max=30, message=TOO_LONG), _phone]
    )
    email = EmailField(
        _l("E-mail"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=254, message=TOO_LONG),
            Email(_l("Enter a valid e-mail address, like nama@contoh.id.")),
        ],
    )
    website = StringField(
        _l("Website"), validators=[Optional(), Length(max=300, message=TOO_LONG), _url]
    )
    social_links = TextAreaField(
        _l("Social media links (one per line)"), validators=[Optional(), _social]
    )
    description = TextAreaField(
        _l("Short description"), validators=[Optional(), Length(max=2000, message=TOO_LONG)]
    )

    def validate_sk_date(self, field):
        from datetime import date

        if field.data and not (date(1990, 1, 1) <= field.data <= date.today()):
            raise ValidationError(_l("The SK date must be between 1990 and today."))
