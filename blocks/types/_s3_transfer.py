"""S3 transfers for :class:`blocks.types.s3.S3Bucket`: boto3's managed transfer, streamed.

Uploads and downloads go through ``upload_file``/``upload_fileobj``/``download_file``/
``download_fileobj`` with a :data:`TRANSFER_CONFIG` whose chunks and concurrency bound memory
(4 x 8 MiB in flight), so a large file is never held whole. ``download_file`` writes to a
temporary name and renames it when complete, so a failed download leaves no partial file.
"""

from __future__ import annotations

import fnmatch
import functools
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from blocks.errors import InvalidArgument
from blocks.types._rules import import_extra

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024
CHUNK = 8 * MIB
CONCURRENCY = 4


def key_parts(path: str) -> list[str]:
    """The segments of an S3 path, without empty and ``.`` segments; ``..`` is refused."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidArgument(
            f"S3 path {path[:200]!r}: a '..' segment is not allowed (it would leave "
            "bucket_folder); give the object's path inside the bucket folder"
        )
    return parts


@functools.cache
def transfer_config() -> Any:
    """The default ``boto3.s3.transfer.TransferConfig`` (8 MiB parts, 4 threads)."""
    s3transfer = import_extra(
        "boto3.s3.transfer", package="boto3", extra="aws", purpose="S3Bucket transfers"
    )
    return s3transfer.TransferConfig(
        multipart_threshold=CHUNK, multipart_chunksize=CHUNK, max_concurrency=CONCURRENCY,
        io_chunksize=256 * 1024,
    )


def _with_config(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {"Config": transfer_config(), **kwargs}


def upload_file(client: S3Client, bucket: str, key: str, path: Path,
                kwargs: dict[str, Any]) -> None:
    """Upload one local file (multipart above 8 MiB)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not a file")
    client.upload_file(Filename=str(path), Bucket=bucket, Key=key, **_with_config(kwargs))


def upload_fileobj(client: S3Client, bucket: str, key: str, fileobj: IO[bytes] | Any,
                   kwargs: dict[str, Any]) -> None:
    """Upload from a binary file object (read in chunks)."""
    client.upload_fileobj(Fileobj=fileobj, Bucket=bucket, Key=key, **_with_config(kwargs))


def download_file(client: S3Client, bucket: str, key: str, target: Path,
                  kwargs: dict[str, Any]) -> None:
    """Download one object to ``target``, creating its parent folders."""
    target.parent.mkdir(parents=True, exist_ok=True)
    client.download_file(Bucket=bucket, Key=key, Filename=str(target), **_with_config(kwargs))


def download_fileobj(client: S3Client, bucket: str, key: str, fileobj: IO[bytes],
                     kwargs: dict[str, Any]) -> None:
    """Download one object into a binary file object."""
    client.download_fileobj(Bucket=bucket, Key=key, Fileobj=fileobj, **_with_config(kwargs))


def copy(client: S3Client, bucket: str, key: str, to_bucket: str, to_key: str,
         extra_args: dict[str, Any]) -> None:
    """Server-side copy (multipart for large objects)."""
    client.copy(CopySource={"Bucket": bucket, "Key": key}, Bucket=to_bucket, Key=to_key,
                ExtraArgs=extra_args or None, Config=transfer_config())


def list_objects(
    client: S3Client, bucket: str, prefix: str, *, delimiter: str = "",
    page_size: int | None = None, max_items: int | None = None,
    jmespath_query: str | None = None,
) -> list[dict[str, Any]]:
    """The objects under ``prefix``, paginated (``Contents`` entries only)."""
    paging: Any = {"PageSize": page_size, "MaxItems": max_items}
    pages: Any = client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, Delimiter=delimiter, PaginationConfig=paging,
    )
    if jmespath_query:
        pages = pages.search(f"{jmespath_query} | {{Contents: @}}")
    return [obj for page in pages if page for obj in page.get("Contents") or []]


def upload_folder(
    client: S3Client, bucket: str, prefix: str, folder: Path, kwargs: dict[str, Any],
    *, ignore: list[str] | None = None,
) -> int:
    """Upload every file under ``folder`` to ``prefix`` + its relative path; returns the count."""
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    count = 0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_dir() or (ignore and ignored(relative, ignore)):
            continue
        upload_file(client, bucket, prefix + relative, path, kwargs)
        count += 1
    return count


def download_folder(
    client: S3Client, bucket: str, prefix: str, target: Path, kwargs: dict[str, Any]
) -> int:
    """Download every object under ``prefix`` into ``target``; returns the count.

    Raises:
        ValueError: a key would land outside ``target`` (a ``..`` segment); nothing is
            downloaded then.
    """
    base = target.resolve()
    plan: list[tuple[str, Path]] = []
    for obj in list_objects(client, bucket, prefix):
        key = obj["Key"]
        if key.endswith("/"):
            continue  # a "folder" marker object
        relative = key[len(prefix):]
        parts = relative.split("/")
        local = base.joinpath(*parts).resolve()
        if ".." in parts or not local.is_relative_to(base):
            raise InvalidArgument(f"object key {key!r} would be written outside {target}")
        plan.append((key, local))
    for key, local in plan:
        download_file(client, bucket, key, local, kwargs)
    return len(plan)


def read_ignore_file(path: Path) -> list[str]:
    """Glob patterns of an ignore file: one per line, blank lines and ``#`` comments skipped."""
    lines = path.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(relative: str, patterns: list[str]) -> bool:
    """True when a relative path matches a pattern: a pattern with ``/`` matches the path from
    the folder's root, one without matches any segment; ``dir/`` matches what is inside."""
    segments = relative.split("/")
    for pattern in patterns:
        pat = pattern.strip("/")
        if "/" in pattern.rstrip("/"):
            prefixes = ["/".join(segments[:i]) for i in range(1, len(segments) + 1)]
            if any(fnmatch.fnmatchcase(p, pat) for p in prefixes):
                return True
        elif any(fnmatch.fnmatchcase(seg, pat) for seg in segments):
            return True
    return False
