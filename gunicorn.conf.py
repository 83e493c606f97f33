"""gunicorn settings for Monev: ``gunicorn -c gunicorn.conf.py`` (README, "Deploying beyond
one machine"). Each value can be changed on the command line (``--workers 2``) or in
``GUNICORN_CMD_ARGS``; the ``MONEV_*`` variables below set the common ones.

Why these values:

- **gthread workers** (threads in each process). A request runs in a thread while the
  worker's main thread keeps telling the master it is alive, so a 500 MB video arriving over
  a slow line for half an hour is never killed for taking long (the default *sync* worker is
  killed after ``timeout`` seconds of one request, and the user gets a bare error). Uploads
  are written to disk as they arrive and their size is checked by the app
  (``MONEV_MAX_UPLOAD_MB``, ``MONEV_MAX_VIDEO_MB``); gunicorn puts no limit on a body.
- ``timeout`` only catches a worker process that hangs as a whole.
- **Behind a reverse proxy** (nginx, Caddy; it terminates HTTPS): set ``MONEV_PROXY_COUNT=1``
  so the app takes the client's address and scheme from ``X-Forwarded-For`` and
  ``X-Forwarded-Proto`` (login throttling and secure cookies depend on them), and let the
  proxy buffer request bodies, so a slow upload occupies the proxy, not a worker thread.
  For nginx::

      client_max_body_size 520m;      # MONEV_MAX_VIDEO_MB + 20
      client_body_timeout 300s;       # between two packets, not for the whole upload
      proxy_request_buffering on;     # the default: the whole body first, then gunicorn
      proxy_read_timeout 300s;        # certificates and ZIP exports can take a while
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Request-ID $request_id;   # the id in Monev's log lines

- The logs go to stderr (the service manager keeps them); every access line carries the
  request's id (``X-Request-ID``), the same one Monev's own log lines show.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Metrics of all worker processes added up at each scrape (monev/ops/metrics.py): set before
# the workers import prometheus_client; emptied at each start.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="monev-metrics-")

wsgi_app = "monev:create_app()"
bind = [os.environ.get("MONEV_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("MONEV_WEB_WORKERS", "4"))
worker_class = "gthread"
threads = int(os.environ.get("MONEV_WEB_THREADS", "8"))

timeout = 120  # a worker process that stops answering the master (not a slow request)
graceful_timeout = 60  # on restart, running requests get this long to finish
keepalive = 5
max_requests = 2000  # a worker is replaced after this many requests (memory stays flat)
max_requests_jitter = 200
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# gunicorn trusts X-Forwarded-Proto only from these addresses (a proxy on the same host).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("MONEV_LOG_LEVEL", "info").lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'

# No runtime-control socket in the home folder (two servers on one machine would share it).
control_socket_disable = True


def on_starting(server):
    """The metric files of an earlier run would add to this one's: remove them."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink(missing_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def when_ready(server):
    """Once, in the master, before the workers start: the checks of ``flask --app monev
    doctor``, logged (a failed check is a warning in the log, the server starts anyway)."""
    try:
        from monev import create_app
        from monev.ops.checks import log_startup

        log_startup(create_app())
    except Exception:  # the workers will say what is wrong when they create the app
        server.log.exception("The start-up checks could not run")
