"""Health, readiness and the administration's System page.

``/healthz``: the process answers (no database: a load balancer restarts a process that
fails it, which would not fix a database). ``/readyz``: the database, the file storage and
the job queue, each with its latency; 503 names the part that fails, so a load balancer
takes the process out of rotation until it recovers. ``/metrics``: Prometheus, for a
scraper with ``MONEV_METRICS_TOKEN`` (``monev.ops.metrics``). ``/admin/system``: the
background workers' heartbeats and the queue, for the organiser.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from monev import jobs
from monev.core import access
from monev.jobs import heartbeat
from monev.ops import metrics, readiness

bp = Blueprint("ops", __name__)
access.blueprint_roles(bp, access.ADMIN)


@bp.route("/healthz")
@access.public
def healthz():
    return {"status": "ok"}


@bp.route("/readyz")
@access.public
def readyz():
    probes = readiness.probe_all()
    failing = [p.name for p in probes if not p.ok]
    body = {
        "status": "unavailable" if failing else "ok",
        "checks": {p.name: p.as_dict() for p in probes},
    }
    if failing:
        body["failing"] = failing
    return body, 503 if failing else 200


@bp.route("/metrics")
@access.public  # the scraper's token is checked by the view; without MONEV_METRICS_TOKEN: 404
def prometheus():
    return metrics.exposition()


@bp.route("/admin/system")
def system():
    rows = heartbeat.recent()
    try:
        depth, queue_error = (None if jobs.huey.immediate else jobs.queue_depth()), None
    except Exception as exc:
        depth, queue_error = None, jobs.describe_error(exc)
    return render_template(
        "ops/system.html",
        probes=readiness.probe_all(),
        workers=[(row, heartbeat.is_alive(row)) for row in rows],
        immediate=jobs.huey.immediate,
        queue_where=jobs.queue_where(current_app.config),
        queue_depth=depth,
        queue_error=queue_error,
        queue_name=current_app.config.get("HUEY_NAME"),
    )
