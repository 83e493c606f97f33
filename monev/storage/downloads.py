"""Stored files as downloads."""

from __future__ import annotations

from flask import Response, abort

from monev.core.views import download
from monev.storage import StorageError, StorageUnavailable, get_storage


def send_stored(key: str, filename: str, mimetype: str, *, inline: bool = False) -> Response:
    """A file of the storage as :func:`monev.core.views.download`: from its path when the
    storage is a local folder (range and conditional requests answered), else streamed from
    the object store; 404 when it is gone, StorageUnavailable (answered 503) when the
    storage cannot be reached."""
    storage = get_storage()
    path = storage.local_path(key)
    try:
        source = path if path is not None else storage.open(key)
    except StorageUnavailable:
        raise
    except StorageError:
        abort(404)
    return download(source, filename, mimetype, inline=inline)
