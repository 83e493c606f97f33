"""The event package: a whole event as one JSON document, format ``monev-event/1``.

Export writes the event's settings, stages, categories, rubric, entries (with their KIMs),
judges, assignments and scores, deterministically (same data, same text), so that
export -> import into an empty database -> export gives the same document.

Import checks the whole document first and collects every problem with its JSON path
(``$.rubric[1].criteria[0].step``), using the rubric rules of ``monev.rubrics.validation``;
only a document without problems is written, in the caller's transaction (services flush,
the caller commits or rolls back). The format is described in ``docs/event-format.md``.

The package composes several domains (events, rubrics, directory, entries, judging), so it
sits above them and imports from each; nothing imports it but the CLI and its views.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, select

from monev.core.documents import DocumentError, parse_json
from monev.events.models import Event
from monev.extensions import db
from monev.rubrics.models import Criterion
from monev.transfer.package.export import export_event
from monev.transfer.package.plan import FORMAT, TOP_OPTIONAL, TOP_REQUIRED, Plan
from monev.transfer.package.read import (
    read_categories,
    read_entries,
    read_event,
    read_judges,
    read_stages,
)
from monev.transfer.package.scores import check_rules, read_assignments, read_scores
from monev.transfer.package.write import write_plan
from monev.transfer.rubric.document import read_rubric

__all__ = ["FORMAT", "check", "events_for_transfer", "export_event", "import_package", "parse"]


def parse(data: bytes | str):
    """The uploaded bytes as a document (``DocumentError`` when they are not JSON)."""
    return parse_json(data)


def check(document) -> Plan:
    """Read and check a package; writes nothing. ``plan.reader.problems`` lists what is wrong."""
    plan = Plan()
    r = plan.reader
    doc = r.object(document, "$", required=TOP_REQUIRED, optional=TOP_OPTIONAL)
    if doc is None:
        return plan
    if "format" in doc and doc["format"] != FORMAT:
        r.problem("$.format", _('Expected "%(format)s".', format=FORMAT))
    if "event" in doc:
        read_event(plan, doc["event"])
    read_stages(plan, doc)
    read_categories(plan, doc)
    stage_keys = {s.key for s in plan.stages if s.key}
    plan.aspects = read_rubric(r, r.items(doc, "rubric", "$"), stage_keys)
    read_entries(plan, doc)
    read_judges(plan, doc)
    read_assignments(plan, doc)
    read_scores(plan, doc)
    check_rules(plan)
    return plan


def import_package(document) -> Event:
    """Create the event of a checked package; ``DocumentError`` lists every problem."""
    plan = check(document)
    if plan.reader.problems:
        raise DocumentError(sorted(plan.reader.problems, key=_document_order))
    return write_plan(plan)


def _document_order(problem) -> tuple:
    """Problems in the order of the document: by section, then by list positions (a stable
    sort keeps the reading order within one place)."""
    head = problem.path.split(".")[1] if "." in problem.path else ""
    section = head.split("[")[0]
    rank = TOP_REQUIRED.index(section) if section in TOP_REQUIRED else 0
    if section in TOP_OPTIONAL:
        rank = len(TOP_REQUIRED) + TOP_OPTIONAL.index(section)
    return (rank, [int(n) for n in re.findall(r"\[(\d+)\]", problem.path)])


def events_for_transfer() -> list[tuple[Event, int]]:
    """Every event with its number of criteria, newest first (one query)."""
    rows = db.session.execute(
        select(Event, func.count(Criterion.id))
        .outerjoin(Criterion, Criterion.event_id == Event.id)
        .group_by(Event.id)
        .order_by(Event.year.desc(), Event.title)
    ).all()
    return [(event, count) for event, count in rows]
