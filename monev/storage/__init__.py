"""Evidence files: a local folder (default) or S3-compatible object storage.

``get_storage()`` gives the app's backend, chosen by ``MONEV_STORAGE_BACKEND`` (``local`` or
``s3``). Both store a file under a key the app generates (``entries/12/3f…c1.pdf``), never
under a name a user chose. Writes follow the database transaction of the request: a file
written by ``put`` is removed again if the transaction rolls back, and ``delete_after_commit``
removes a file only once the row that pointed at it is gone for good (see ``tracking``).
"""

from __future__ import annotations

from flask import current_app

from monev.storage import tracking  # noqa: F401  (keeps files in step with transactions)
from monev.storage.base import Storage, StorageError, StorageNotFound, StorageUnavailable
from monev.storage.local import LocalStorage

__all__ = [
    "Storage",
    "StorageError",
    "StorageNotFound",
    "StorageUnavailable",
    "get_storage",
    "make_storage",
]

_EXTENSION_KEY = "monev_storage"


def make_storage(config) -> Storage:
    backend = (config.get("STORAGE_BACKEND") or "local").lower()
    if backend == "local":
        return LocalStorage(config["STORAGE_DIR"])
    if backend == "s3":
        from monev.storage.s3 import S3Storage  # boto3 is imported only when S3 is used

        return S3Storage.from_config(config)
    raise RuntimeError(f"MONEV_STORAGE_BACKEND must be 'local' or 's3', not {backend!r}")


def get_storage() -> Storage:
    """The current app's storage backend, made once per app."""
    app = current_app._get_current_object()
    storage = app.extensions.get(_EXTENSION_KEY)
    if storage is None:
        storage = app.extensions[_EXTENSION_KEY] = make_storage(app.config)
    return storage
