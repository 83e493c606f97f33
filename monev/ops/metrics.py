"""Prometheus metrics at ``/metrics``, for a scraper that sends ``MONEV_METRICS_TOKEN``.

Without the token setting the endpoint does not exist (404); with it, a request must carry
``Authorization: Bearer <token>`` (else 401). What it shows:

- ``monev_http_request_duration_seconds{endpoint,method,status}``: every request's time;
- ``monev_score_saves_total{kind}``: score changes committed (``score``, ``final``,
  ``reopen``); ``monev_uploads_total{kind}``: evidence committed (``file``, ``link``);
- read from the database and the queue when scraped: ``monev_job_queue_depth``,
  ``monev_job_queue_up``, ``monev_workers_alive``,
  ``monev_certificate_batch_done`` / ``_total{event,batch}`` (active batches),
  ``monev_notification_deliveries_failed{channel}``.

Under gunicorn every worker process counts its own requests: ``gunicorn.conf.py`` sets
``PROMETHEUS_MULTIPROC_DIR`` so prometheus_client adds up all processes at a scrape.
"""

from __future__ import annotations

import hmac
import os
import time
from collections import Counter as Tally

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from monev import jobs
from monev.certificates.batch import ACTIVE, CertificateBatch
from monev.entries.models import Evidence
from monev.events.models import Event
from monev.extensions import db
from monev.jobs import heartbeat
from monev.judging.models import ScoreChange
from monev.notify.models import Delivery

REQUEST_SECONDS = Histogram(
    "monev_http_request_duration_seconds",
    "Time to answer a request, by endpoint",
    ["endpoint", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
)
SCORE_SAVES = Counter("monev_score_saves", "Score changes committed", ["kind"])
UPLOADS = Counter("monev_uploads", "Evidence committed (files and links)", ["kind"])
_PENDING = "monev_metrics_pending"


# --- counted when the transaction commits -----------------------------------------------------


@event.listens_for(Session, "after_flush")
def _count_new_rows(session: Session, _context) -> None:
    tally = session.info.setdefault(_PENDING, Tally())
    for obj in session.new:
        if isinstance(obj, ScoreChange):
            tally[("score", obj.kind)] += 1
        elif isinstance(obj, Evidence):
            tally[("upload", obj.kind)] += 1


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for (what, kind), count in session.info.pop(_PENDING, Tally()).items():
        (SCORE_SAVES if what == "score" else UPLOADS).labels(kind=kind or "").inc(count)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


# --- read when scraped ------------------------------------------------------------------------


class StateCollector:
    """Gauges read from the database and the queue at each scrape (in the request)."""

    def collect(self):
        depth = GaugeMetricFamily("monev_job_queue_depth", "Background jobs waiting")
        up = GaugeMetricFamily("monev_job_queue_up", "1 when the job queue answers")
        try:
            depth.add_metric([], 0 if jobs.huey.immediate else jobs.queue_depth())
            up.add_metric([], 1)
        except Exception:
            up.add_metric([], 0)
        yield depth
        yield up

        workers = GaugeMetricFamily("monev_workers_alive", "Workers with a recent heartbeat")
        workers.add_metric([], len(heartbeat.alive()))
        yield workers

        done = GaugeMetricFamily(
            "monev_certificate_batch_done", "Certificates rendered", labels=["event", "batch"]
        )
        total = GaugeMetricFamily(
            "monev_certificate_batch_total", "Certificates to render", labels=["event", "batch"]
        )
        for batch_id, slug, done_count, total_count in db.session.execute(
            select(
                CertificateBatch.id,
                Event.slug,
                CertificateBatch.done_count,
                CertificateBatch.total,
            )
            .join(Event, Event.id == CertificateBatch.event_id)
            .where(CertificateBatch.status.in_(ACTIVE))
        ):
            done.add_metric([slug, str(batch_id)], done_count)
            total.add_metric([slug, str(batch_id)], total_count)
        yield done
        yield total

        failed = GaugeMetricFamily(
            "monev_notification_deliveries_failed",
            "Notification deliveries given up after their retries",
            labels=["channel"],
        )
        for channel, count in db.session.execute(
            select(Delivery.channel, func.count(Delivery.id))
            .where(Delivery.status == "failed")
            .group_by(Delivery.channel)
        ):
            failed.add_metric([channel], count)
        yield failed


_state_registry = CollectorRegistry(auto_describe=False)
_state_registry.register(StateCollector())


def _process_registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def init_app(app: Flask) -> None:
    @app.before_request
    def _start_clock():
        g._monev_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("_monev_started", None)
        if started is not None:
            REQUEST_SECONDS.labels(
                endpoint=request.endpoint or "unmatched",
                method=request.method,
                status=str(response.status_code),
            ).observe(time.perf_counter() - started)
        return response


def exposition() -> Response:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response(
            "A Bearer token (MONEV_METRICS_TOKEN) is required.\n",
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"', "Content-Type": "text/plain"},
        )
    body = generate_latest(_process_registry()) + generate_latest(_state_registry)
    return Response(body, 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})
