"""Files in an S3-compatible bucket (SeaweedFS, MinIO, AWS S3), through boto3.

An S3 PUT is atomic: the object appears whole when the upload completes, or not at all
(an interrupted multipart upload is aborted by boto3's transfer manager).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from monev.storage.base import (
    StorageNotFound,
    StorageUnavailable,
    StoredObject,
    Upload,
    check_key,
)

NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


NO_BUCKET = {"404", "NoSuchBucket", "NotFound"}


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class S3Storage:
    name = "s3"

    def __init__(self, client, bucket: str, prefix: str = "", spool: str | None = None):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._spool = Path(spool) if spool else Path(tempfile.gettempdir()) / "monev-incoming"

    @classmethod
    def from_config(cls, config) -> S3Storage:
        import boto3
        from botocore.config import Config

        bucket = config.get("S3_BUCKET")
        if not bucket:
            raise RuntimeError("MONEV_STORAGE_BACKEND=s3 needs MONEV_S3_BUCKET")
        client = boto3.client(
            "s3",
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region_name=config.get("S3_REGION") or "us-east-1",
            aws_access_key_id=config.get("S3_ACCESS_KEY"),
            aws_secret_access_key=config.get("S3_SECRET_KEY"),
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
            ),
        )
        spool = config.get("STORAGE_SPOOL_DIR")
        return cls(client, bucket, config.get("S3_PREFIX") or "", spool)

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def spool_dir(self) -> Path:
        self._spool.mkdir(parents=True, exist_ok=True)
        return self._spool

    def put(self, key: str, path: Path, content_type: str) -> None:
        from boto3.s3.transfer import TransferConfig

        path = Path(path)
        try:
            self.client.upload_file(
                str(path),
                self.bucket,
                self._key(key),
                ExtraArgs={"ContentType": content_type},
                Config=TransferConfig(multipart_threshold=16 << 20, multipart_chunksize=16 << 20),
            )
        except Exception as exc:
            raise StorageUnavailable(f"could not store {key!r}: {exc}") from exc
        finally:
            path.unlink(missing_ok=True)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type
            )
        except Exception as exc:
            raise StorageUnavailable(f"could not store {key!r}: {exc}") from exc

    def open(self, key: str) -> BinaryIO:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except Exception as exc:
            if _code(exc) in NOT_FOUND:
                raise StorageNotFound(f"no file under {key!r}") from exc
            raise StorageUnavailable(f"could not read {key!r}: {exc}") from exc

    def size(self, key: str) -> int | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"]
        except Exception as exc:
            if _code(exc) in NOT_FOUND:
                return None
            raise StorageUnavailable(f"could not read {key!r}: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            raise StorageUnavailable(f"could not delete {key!r}: {exc}") from exc

    def local_path(self, key: str) -> Path | None:
        return None

    def bucket_exists(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            if _code(exc) in NO_BUCKET:
                return False
            raise StorageUnavailable(f"cannot reach bucket {self.bucket!r}: {exc}") from exc
        return True

    def ping(self) -> None:
        """Cheap readiness: the bucket answers."""
        if not self.bucket_exists():
            raise StorageUnavailable(f"the bucket {self.bucket!r} does not exist")

    def check(self, *, fix: bool = False) -> str:
        where = f"bucket {self.bucket!r} at {self.client.meta.endpoint_url}"
        created = ""
        if not self.bucket_exists():
            if not fix:
                raise StorageUnavailable(
                    f"the {where} does not exist: create it, or run "
                    "`flask --app monev doctor --fix`"
                )
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except Exception as exc:
                raise StorageUnavailable(f"could not create the {where}: {exc}") from exc
            created = " (created)"
        probe = f"doctor/probe-{os.getpid()}.txt"
        self.put_bytes(probe, b"monev", "text/plain")
        with contextlib.closing(self.open(probe)) as fh:
            fh.read()
        self.delete(probe)
        self.spool_dir()
        return where + created

    def keys(self) -> list[str]:
        """Every stored key under the prefix (for tests and maintenance)."""
        return sorted(obj.key for obj in self.objects())

    def objects(self) -> Iterator[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for obj in page.get("Contents", []):
                    yield StoredObject(
                        obj["Key"][len(self.prefix) :], _naive(obj["LastModified"]), obj["Size"]
                    )
        except Exception as exc:
            raise StorageUnavailable(f"cannot list bucket {self.bucket!r}: {exc}") from exc

    def debris(self) -> Iterator[tuple[Path, datetime, int]]:
        if not self._spool.is_dir():
            return
        for path in self._spool.iterdir():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if path.is_file():
                yield (
                    path,
                    datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None),
                    (stat.st_size),
                )

    def unfinished_uploads(self) -> Iterator[Upload]:
        paginator = self.client.get_paginator("list_multipart_uploads")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Uploads", []) or []:
                    yield Upload(
                        item["Key"][len(self.prefix) :],
                        item["UploadId"],
                        _naive(item["Initiated"]),
                    )
        except Exception as exc:
            raise StorageUnavailable(f"cannot list the uploads of {self.bucket!r}: {exc}") from exc

    def abort_upload(self, upload: Upload) -> None:
        self.client.abort_multipart_upload(
            Bucket=self.bucket, Key=self.prefix + upload.key, UploadId=upload.upload_id
        )
