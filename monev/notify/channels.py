"""Delivery channels: e-mail (the app's mail delivery) and a WhatsApp HTTP gateway.

Many Indonesian offices send WhatsApp through a paid gateway with a simple HTTP API (a POST
with a token, a phone number and the text). One generic adapter covers them, configured by:

- ``MONEV_WHATSAPP_URL``: the gateway's send endpoint (unset: WhatsApp is off);
- ``MONEV_WHATSAPP_TOKEN``: sent in the header ``MONEV_WHATSAPP_AUTH_HEADER``
  (default ``Authorization``), prefixed by ``MONEV_WHATSAPP_AUTH_PREFIX`` (default none);
- ``MONEV_WHATSAPP_BODY``: the request body as a JSON object whose string values may hold
  ``{phone}`` and ``{message}`` (default ``{"target": "{phone}", "message": "{message}"}``);
- ``MONEV_WHATSAPP_FORMAT``: ``json`` (default) or ``form`` (URL-encoded fields).

Any 2xx answer is a delivery; anything else (or no answer within 15 s) is an error that
the caller retries with back-off.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from flask import current_app

from monev.mail import services as mail

DEFAULT_BODY = '{"target": "{phone}", "message": "{message}"}'
TIMEOUT = 15


class DeliveryError(Exception):
    """The channel did not take the message (the text is kept on the delivery row)."""


def whatsapp_enabled() -> bool:
    return bool(current_app.config.get("WHATSAPP_URL"))


def send_email(address: str, subject: str, body: str) -> None:
    try:
        mail.deliver(current_app._get_current_object(), mail.build(address, subject, body))
    except Exception as error:  # SMTP refusals, a full disk: retried
        raise DeliveryError(f"{type(error).__name__}: {error}") from error


def _fill(value, phone: str, message: str):
    if isinstance(value, str):
        return value.replace("{phone}", phone).replace("{message}", message)
    if isinstance(value, dict):
        return {k: _fill(v, phone, message) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, phone, message) for v in value]
    return value


def send_whatsapp(phone: str, message: str) -> None:
    cfg = current_app.config
    url = cfg.get("WHATSAPP_URL")
    if not url:
        raise DeliveryError("WhatsApp gateway not configured")
    try:
        template = json.loads(cfg.get("WHATSAPP_BODY") or DEFAULT_BODY)
    except ValueError as error:
        raise DeliveryError(f"MONEV_WHATSAPP_BODY is not JSON: {error}") from error
    fields = _fill(template, phone, message)
    if (cfg.get("WHATSAPP_FORMAT") or "json") == "form":
        data = urllib.parse.urlencode(fields).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        data = json.dumps(fields).encode()
        content_type = "application/json"
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryError("MONEV_WHATSAPP_URL must be an http(s) URL")
    request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310 - checked above
    request.add_header("Content-Type", content_type)
    if cfg.get("WHATSAPP_TOKEN"):
        header = cfg.get("WHATSAPP_AUTH_HEADER") or "Authorization"
        request.add_header(header, (cfg.get("WHATSAPP_AUTH_PREFIX") or "") + cfg["WHATSAPP_TOKEN"])
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"gateway answered {error.code}") from error
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryError(f"gateway unreachable: {error}") from error
    if not 200 <= status < 300:
        raise DeliveryError(f"gateway answered {status}")
