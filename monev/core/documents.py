"""Reading uploaded JSON documents (event packages, rubrics) and naming what is wrong by path.

A :class:`Reader` walks a parsed document and collects every problem instead of stopping at
the first, each with the JSON path of the offending value (``$.rubric[1].criteria[0].step``)
and a message in the user's language. Importers check the whole document first and raise
:class:`DocumentError` with the full list before writing anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import ngettext

from monev.core.errors import ServiceError

MISSING: Any = object()
NUMBER_LIMIT = Decimal(1_000_000)  # the widest Numeric column is (8, 2)


@dataclass(frozen=True)
class PathProblem:
    """Something wrong in an uploaded document: where (a JSON path or a cell) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class DocumentError(ServiceError):
    """The document was refused; ``problems`` lists everything found, nothing was written."""

    def __init__(self, problems: list[PathProblem]):
        n = len(problems)
        super().__init__(
            ngettext(
                "The file has %(num)d problem; nothing was imported.",
                "The file has %(num)d problems; nothing was imported.",
                n,
            ),
            status=422,
        )
        self.problems = problems


def parse_json(data: bytes | str) -> Any:
    """The parsed document, numbers with a fraction as ``Decimal``; refuses what is not JSON."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DocumentError([PathProblem("$", _("The file is not UTF-8 text."))]) from exc

    def refuse_constant(name):
        raise ValueError(name)

    try:
        return json.loads(data, parse_float=Decimal, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        message = _(
            "The file is not valid JSON (line %(line)d, column %(column)d).",
            line=exc.lineno,
            column=exc.colno,
        )
        raise DocumentError([PathProblem("$", message)]) from exc
    except (ValueError, RecursionError) as exc:
        raise DocumentError([PathProblem("$", _("The file is not valid JSON."))]) from exc


def json_number(value: Decimal | int | None):
    """A ``Decimal`` as a JSON number: an int when whole, else the shortest float."""
    if value is None:
        return None
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    return float(value.normalize())


def iso_utc(value: datetime | None) -> str | None:
    """Naive UTC from the database -> ``2025-05-01T00:00:00Z``."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def dumps(document: dict) -> str:
    """The document as UTF-8 JSON text, indented, keys in the order they were built."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


class Reader:
    """Type checks over a parsed JSON document that collect problems with their paths.

    Each reader returns the cleaned value, or ``None`` (or the default) when the value is
    absent or wrong; the caller goes on reading so that every problem is reported at once.
    A required key that is absent is reported by :meth:`object`, not by the value readers.
    """

    def __init__(self) -> None:
        self.problems: list[PathProblem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(PathProblem(path, message))

    # --- containers -----------------------------------------------------------------------

    def object(self, value, path: str, required=(), optional=()) -> dict | None:
        if not isinstance(value, dict):
            self.problem(path, _("Expected an object ({ … })."))
            return None
        for key in required:
            if key not in value:
                self.problem(f"{path}.{key}", _("This key is required."))
        allowed = set(required) | set(optional)
        for key in value:
            if key not in allowed:
                self.problem(
                    f"{path}.{key}",
                    _("Unknown key. Allowed here: %(keys)s.", keys=", ".join(sorted(allowed))),
                )
        return value

    def items(self, obj: dict, key: str, path: str) -> list[tuple[str, Any]]:
        """``[(path, item), …]`` of a list value; an absent or null list is empty."""
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(f"{path}.{key}", _("Expected a list ([ … ])."))
            return []
        return [(f"{path}.{key}[{i}]", item) for i, item in enumerate(value)]

    # --- values ---------------------------------------------------------------------------

    def _get(self, obj: dict, key: str, path: str, nullable: bool):
        """(value, done): done when the caller should return the value as it is."""
        value = obj.get(key, MISSING)
        if value is MISSING:
            return None, True
        if value is None:
            if not nullable:
                self.problem(f"{path}.{key}", _("A value is required here, not null."))
            return None, True
        return value, False

    def text(
        self,
        obj: dict,
        key: str,
        path: str,
        *,
        max_len: int,
        default: str | None = None,
        nullable: bool = False,
    ) -> str | None:
        value, done = self._get(obj, key, path, nullable)
        if done:
            return default if key not in obj else None
        return self.text_value(value, f"{path}.{key}", max_len=max_len, nullable=nullable)

    def text_value(self, value, path: str, *, max_len: int, nullable: bool = False):
        if not isinstance(value, str):
            self.problem(path, _("Expected text."))
            return None
        value = value.strip()
        if not value:
            if not nullable:
                self.problem(path, _("This must not be empty."))
            return None
        if len(value) > max_len:
            self.problem(path, _("Use at most %(max)d characters.", max=max_len))
            return None
        return value

    def number(
        self, obj: dict, key: str, path: str, *, default=None, nullable: bool = False
    ) -> Decimal | None:
        value, done = self._get(obj, key, path, nullable)
        if done:
            return default if key not in obj else None
        return self.number_value(value, f"{path}.{key}")

    def number_value(self, value, path: str) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            self.problem(path, _("Expected a number, e.g. 2.5."))
            return None
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            self.problem(path, _("Expected a number, e.g. 2.5."))
            return None
        if abs(number) >= NUMBER_LIMIT:
            self.problem(path, _("Use a number below 1,000,000."))
            return None
        if number.normalize().as_tuple().exponent < -2:
            self.problem(path, _("Use at most two decimals."))
            return None
        return number

    def integer(
        self, obj: dict, key: str, path: str, *, low: int, high: int, default: int | None = None
    ) -> int | None:
        value, done = self._get(obj, key, path, nullable=False)
        if done:
            return default if key not in obj else None
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(f"{path}.{key}", _("Expected a whole number."))
            return None
        if not low <= value <= high:
            self.problem(
                f"{path}.{key}", _("Use a number from %(low)d to %(high)d.", low=low, high=high)
            )
            return None
        return value

    def boolean(self, obj: dict, key: str, path: str, *, default: bool = False) -> bool:
        value, done = self._get(obj, key, path, nullable=False)
        if done:
            return default
        if not isinstance(value, bool):
            self.problem(f"{path}.{key}", _("Expected true or false."))
            return default
        return value

    def choice(
        self, obj: dict, key: str, path: str, choices, *, default: str | None = None
    ) -> str | None:
        value, done = self._get(obj, key, path, nullable=False)
        if done:
            return default if key not in obj else None
        if value not in choices:
            self.problem(f"{path}.{key}", _("Use one of: %(choices)s.", choices=", ".join(choices)))
            return None
        return value

    def text_list(self, obj: dict, key: str, path: str, *, max_len: int) -> list[str] | None:
        """A list of non-empty texts; ``None`` when the key is absent."""
        if obj.get(key) is None:
            return None
        result = []
        for item_path, item in self.items(obj, key, path):
            text = self.text_value(item, item_path, max_len=max_len)
            if text is not None:
                result.append(text)
        return result

    def timestamp(self, obj: dict, key: str, path: str) -> datetime | None:
        """ISO 8601 with a UTC offset -> naive UTC (what the database stores)."""
        value, done = self._get(obj, key, path, nullable=True)
        if done:
            return None
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            self.problem(
                f"{path}.{key}",
                _(
                    "Give a date and time with its offset, e.g. 2025-05-01T08:00:00+08:00 or "
                    "2025-05-01T00:00:00Z."
                ),
            )
            return None
        return moment.astimezone(UTC).replace(tzinfo=None)

    def day(self, obj: dict, key: str, path: str) -> date | None:
        value, done = self._get(obj, key, path, nullable=True)
        if done:
            return None
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.problem(f"{path}.{key}", _("Give a date as YYYY-MM-DD, e.g. 2021-08-02."))
        return None

    def email(self, obj: dict, key: str, path: str) -> str | None:
        value = self.text(obj, key, path, max_len=254)
        if value is None:
            return None
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError:
            self.problem(f"{path}.{key}", _("Invalid email address."))
            return None
        return value.lower()


def check_unique(reader: Reader, values: list[tuple[str, Any]], message) -> None:
    """Report every value after its first occurrence; ``message(value, first_path)``."""
    seen: dict[Any, str] = {}
    for path, value in values:
        if value is None:
            continue
        if value in seen:
            reader.problem(path, message(value, seen[value]))
        else:
            seen[value] = path
