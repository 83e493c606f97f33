from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from monev.core.forms import TOO_LONG, MonevForm, choices, strip
from monev.core.timezones import ZONES

AGGREGATION_CHOICES = [
    ("mean", _l("Mean of the judges' scores")),
    ("median", _l("Median of the judges' scores")),
    ("trimmed", _l("Trimmed mean (drop highest and lowest when 4 or more judges)")),
]


class EventForm(MonevForm):
    title = StringField(
        _l("Title"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the event's title.")),
            Length(max=200, message=TOO_LONG),
        ],
    )
    slug = StringField(
        _l("Web address (slug)"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter a short web address.")),
            Length(max=80, message=TOO_LONG),
        ],
    )
    year = IntegerField(
        _l("Year"),
        validators=[
            DataRequired(_l("Enter the year.")),
            NumberRange(min=2000, max=2100, message=_l("Enter a year between 2000 and 2100.")),
        ],
        default=lambda: date.today().year,
    )
    organiser = StringField(
        _l("Organiser"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the organiser.")), Length(max=200, message=TOO_LONG)],
        default="Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
    )
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=4000, message=TOO_LONG)]
    )
    timezone = SelectField(
        _l("Time zone"),
        choices=choices((tz, f"{label} ({tz})") for tz, label in ZONES.items()),
        default="Asia/Makassar",
    )
    aggregation = SelectField(
        _l("How judges' scores are combined"), choices=choices(AGGREGATION_CHOICES), default="mean"
    )
    normalize_judges = BooleanField(_l("Correct lenient and harsh judges (z-scores)"))
    tie_breaks = TextAreaField(
        _l("Tie-break rules, in order"),
        validators=[Optional(), Length(max=1000, message=TOO_LONG)],
    )


class StageForm(MonevForm):
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the stage's name.")), Length(max=120, message=TOO_LONG)],
    )
    key = StringField(
        _l("Code"),
        filters=[strip],
        validators=[DataRequired(_l("Enter a short code.")), Length(max=40, message=TOO_LONG)],
    )
    weight = StringField(
        _l("Weight (%)"), filters=[strip], validators=[DataRequired(_l("Enter the weight."))]
    )
    opens_at = DateTimeLocalField(_l("Opens"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Closes"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    judges_per_entry = IntegerField(
        _l("Judges per entry"),
        default=3,
        validators=[
            DataRequired(_l("Enter how many judges score each entry.")),
            NumberRange(min=1, max=15, message=_l("Enter a number from 1 to 15.")),
        ],
    )
    kind = SelectField(
        _l("Kind of stage"),
        choices=choices(
            [
                ("standard", _l("Score sheets (documents, presentation)")),
                ("visit", _l("Field visit (a team of judges on site at each KIM)")),
            ]
        ),
        default="standard",
    )


class CategoryForm(MonevForm):
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the category's name.")),
            Length(max=120, message=TOO_LONG),
        ],
    )
    key = StringField(
        _l("Code"),
        filters=[strip],
        validators=[DataRequired(_l("Enter a short code.")), Length(max=40, message=TOO_LONG)],
    )
    award_ladder = TextAreaField(
        _l("Awards, best first (one per line)"),
        validators=[Optional(), Length(max=1000, message=TOO_LONG)],
    )
    score_bands = TextAreaField(
        _l("Score bands (optional, one per line: lowest score and name)"),
        validators=[Optional(), Length(max=1000, message=TOO_LONG)],
    )


class AspectForm(MonevForm):
    name = StringField(
        _l("Aspect"),
        filters=[strip],
        validators=[DataRequired(_l("Give the aspect a name.")), Length(max=120, message=TOO_LONG)],
    )


class CriterionForm(MonevForm):
    key = StringField(
        _l("Code"),
        filters=[strip],
        validators=[DataRequired(_l("Enter a short code.")), Length(max=40, message=TOO_LONG)],
    )
    name = StringField(
        _l("Criterion"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the criterion a name.")),
            Length(max=200, message=TOO_LONG),
        ],
    )
    guidance = TextAreaField(
        _l("Guidance for judges and KIMs"),
        validators=[Optional(), Length(max=4000, message=TOO_LONG)],
    )
    weight = StringField(
        _l("Weight"), filters=[strip], validators=[DataRequired(_l("Enter the weight."))]
    )
    min_score = StringField(
        _l("Lowest score"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the lowest score."))],
    )
    max_score = StringField(
        _l("Highest score"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the highest score."))],
    )
    step = StringField(
        _l("Step"), filters=[strip], validators=[DataRequired(_l("Enter the step."))]
    )
    descriptors = TextAreaField(
        _l('Level descriptors (one per line, e.g. "1-2: No SK yet")'),
        validators=[Optional(), Length(max=4000, message=TOO_LONG)],
    )
    evidence = SelectField(
        _l("Evidence the KIM must give"),
        choices=choices(
            [
                ("none", _l("None")),
                ("file", _l("A file")),
                ("link", _l("A link")),
                ("either", _l("A file or a link")),
            ]
        ),
        default="none",
    )
    evidence_hint = StringField(
        _l("Hint to the KIM"),
        filters=[strip],
        validators=[Optional(), Length(max=300, message=TOO_LONG)],
    )
    # Shown (and read) only for a criterion of a field visit stage.
    photos_required = StringField(_l("Photos required on the visit"), filters=[strip])
