"""Judging pages: the judge's assignments and score sheets (/judge/…, ``judge``), the
presentation schedule for judges and KIMs (/schedule/, ``schedule``), and the organiser's
judging pages (/admin/events/<slug>/judging/…, ``judging``).

- ``blueprints``: the three blueprints, their access rules and the stage of the URL;
- ``sheets``: what judges do (assignments, score sheets, conflicts, blank paper forms);
- ``panel``: the organiser's panel, conflicts, assignments and sheets;
- ``board``: the progress board (live, cached per version) and its pages per judge and entry;
- ``schedule``: the presentation schedule (the organiser's and everyone's own);
- ``paper``: paper score forms and their import, for the organiser;
- ``drops``: the organiser drops a sheet that is not final (with a reason) or restores it;
- ``offline``: field visits without a signal (service worker, manifest, app shell, the
  judge's bundle and sync).
"""

from monev.judging.views import (  # noqa: F401
    board,
    drops,
    offline,
    panel,
    paper,
    schedule,
    sheets,
    visits,
)
from monev.judging.views.blueprints import bp, judge_bp, schedule_bp
from monev.judging.views.offline import offline_bp

__all__ = ["bp", "judge_bp", "offline_bp", "schedule_bp"]
