"""The :class:`S3Bucket` block: a bucket (optionally a folder in it) and its credentials.

Method names and arguments follow prefect-aws's ``S3Bucket``, each with an ``a``-prefixed async
twin that runs it off the event loop. Every path is relative to ``bucket_folder`` and ``..``
segments are refused, so a block scoped to a folder cannot reach keys outside it. Transfers use
boto3's managed transfer (multipart, streamed in chunks), never a whole file in memory; the
transfer work itself is in :mod:`blocks.types._s3_transfer`.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

from pydantic import (
    Field,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from blocks._dispatch import async_dispatch, async_twin
from blocks.core import Block
from blocks.errors import InvalidArgument
from blocks.types import _s3_transfer as transfer
from blocks.types._rules import strip_union_tags, warn_unusual
from blocks.types._s3_credentials import CREDENTIAL_TAGS
from blocks.types._s3_credentials import Credentials as Credentials
from blocks.types._s3_transfer import key_parts
from blocks.types.aws import AwsCredentials

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# AWS's rule for new buckets. Older us-east-1 buckets (and S3-compatible stores) have names of
# up to 255 letters (capitals too), digits, ".", "-" and "_": those are kept, with a warning.
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_LEGACY_BUCKET_RE = re.compile(r"^[A-Za-z0-9._-]{3,255}$")
_log = logging.getLogger(__name__)


class S3Bucket(Block):
    """An S3 bucket (optionally a folder in it) and the credentials to reach it.

    Paths given to the methods are relative to ``bucket_folder``; ``..`` segments are refused,
    so a block scoped to a folder cannot reach keys outside it.

    Example:
        >>> bucket = S3Bucket(bucket_name="data-lake", bucket_folder="raw")    # doctest: +SKIP
        >>> bucket.write_path("2026/11/21.csv", b"a,b\\n")                     # doctest: +SKIP
        'raw/2026/11/21.csv'
    """

    bucket_name: str = Field(
        description="Bucket name (3-63 lowercase letters, digits, . and -; a legacy name with "
        "capitals or _ is kept, with an UnusualValueWarning)."
    )
    bucket_folder: str = Field(
        default="",
        description="Folder (key prefix) inside the bucket that paths are relative to; "
        "default: the bucket's root.",
    )
    credentials: Credentials = Field(
        default_factory=AwsCredentials,
        description="AWS (or MinIO) credentials block; default: boto3's default chain.",
    )

    @field_validator("bucket_name")
    @classmethod
    def _check_bucket_name(cls, value: str) -> str:
        if not _LEGACY_BUCKET_RE.match(value):
            raise ValueError("must be 3-63 lowercase letters, digits, dots and dashes (older "
                             "buckets: 3-255 letters, digits, '.', '-' and '_')")
        if not _BUCKET_RE.match(value) or ".." in value:
            warn_unusual(cls.__name__, "bucket_name",
                         f"{value!r} breaks S3's naming rules for new buckets (3-63 lowercase "
                         "letters, digits, dots and dashes); used as given, as S3 accepts it "
                         "for older buckets")
        return value

    @field_validator("bucket_folder", mode="before")
    @classmethod
    def _check_folder(cls, value: Any) -> Any:
        # prefect-aws code sets bucket_folder = None for "the bucket's root".
        if value is None:
            return ""
        return "/".join(key_parts(value)) if isinstance(value, str) else value

    @model_validator(mode="wrap")
    @classmethod
    def _credentials_paths(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        with strip_union_tags(cls.__name__, "credentials", CREDENTIAL_TAGS):
            return handler(data)

    # -- keys ------------------------------------------------------------------------------

    def key_for(self, path: str | Path) -> str:
        """The object key for ``path`` inside ``bucket_folder``.

        Raises:
            InvalidArgument: ``path`` is empty or has a ``..`` segment (a ``ValueError``).
        """
        parts = key_parts(Path(path).as_posix() if isinstance(path, Path) else path)
        if not parts:
            raise InvalidArgument("path must name an object, e.g. 'reports/2026.csv'")
        return "/".join([self.bucket_folder, *parts] if self.bucket_folder else parts)

    def prefix_for(self, folder: str | Path | None = "") -> str:
        """The key prefix (``"a/b/"``, or ``""`` for the root) of ``folder`` in ``bucket_folder``.

        Raises:
            InvalidArgument: ``folder`` has a ``..`` segment (a ``ValueError``).
        """
        text = Path(folder).as_posix() if isinstance(folder, Path) else (folder or "")
        parts = [*key_parts(self.bucket_folder), *key_parts(text)]
        return "/".join(parts) + "/" if parts else ""

    def raw_prefix(self, prefix: str | Path | None = "") -> str:
        """The key prefix ``prefix`` inside ``bucket_folder``, without adding a ``/``.

        Raises:
            ValueError: ``prefix`` has a ``..`` segment.
        """
        text = Path(prefix).as_posix() if isinstance(prefix, Path) else (prefix or "")
        folder = self.prefix_for("")
        parts = key_parts(text)
        if not parts:
            return folder
        return folder + "/".join(parts) + ("/" if text.endswith("/") else "")

    def get_s3_client(self) -> S3Client:
        """The (cached) boto3 S3 client of this bucket's credentials."""
        return self.credentials.get_s3_client()

    # -- objects ---------------------------------------------------------------------------

    @async_dispatch
    def read_path(self, /, path: str) -> bytes:
        """The content of the object at ``path`` (read whole: use the download methods for
        large objects).

        Raises:
            MissingExtraError: boto3 is not installed (extra ``aws``).
            botocore.exceptions.ClientError: e.g. ``NoSuchKey``, ``AccessDenied``.
        """
        response = self.get_s3_client().get_object(Bucket=self.bucket_name, Key=self.key_for(path))
        body = response["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    @async_dispatch
    def write_path(self, /, path: str, content: bytes) -> str:
        """Write ``content`` to the object at ``path``, replacing it if it exists.

        Returns:
            The object's key (``bucket_folder`` included).
        """
        key = self.key_for(path)
        self.get_s3_client().put_object(Bucket=self.bucket_name, Key=key, Body=content)
        return key

    @async_dispatch
    def list_objects(
        self, /,
        folder: str = "",
        delimiter: str = "",
        page_size: int | None = None,
        max_items: int | None = None,
        jmespath_query: str | None = None,
    ) -> list[dict[str, Any]]:
        """Objects whose keys start with ``folder`` (inside ``bucket_folder``), as prefect-aws
        lists them.

        Args:
            folder: key prefix, taken as written: ``"logs"`` lists ``logs/...`` and
                ``logs-old/...``, ``"logs/"`` only ``logs/...``; default: all of
                ``bucket_folder``.
            delimiter: e.g. ``"/"`` to list one level only (no recursion).
            page_size: keys per ``ListObjectsV2`` request (S3's maximum and default: 1000).
            max_items: stop after this many objects.
            jmespath_query: a JMESPath filter of the objects, e.g.
                ``"Contents[?Size > `100`][]"``.

        Returns:
            One dict per object as S3 returns it (``Key``, ``Size``, ``LastModified``, ...),
            ordered by key. Keys include ``bucket_folder``.
        """
        return transfer.list_objects(
            self.get_s3_client(), self.bucket_name, self.raw_prefix(folder),
            delimiter=delimiter, page_size=page_size, max_items=max_items,
            jmespath_query=jmespath_query,
        )

    @async_dispatch
    def upload_from_path(
        self, /, from_path: str | Path, to_path: str | None = None, **upload_kwargs: Any
    ) -> str:
        """Upload a local file (streamed, multipart when large) to ``to_path``.

        Args:
            from_path: local file.
            to_path: object path; default: the file's name.
            **upload_kwargs: boto3 ``upload_file`` arguments (``ExtraArgs``, ``Config``...).

        Returns:
            The object's key.
        """
        key = self.key_for(to_path if to_path is not None else Path(from_path).name)
        transfer.upload_file(self.get_s3_client(), self.bucket_name, key, Path(from_path),
                             upload_kwargs)
        return key

    @async_dispatch
    def upload_from_file_object(
        self, /, from_file_object: IO[bytes], to_path: str, **upload_kwargs: Any
    ) -> str:
        """Upload a binary file object (read in chunks) to ``to_path``; returns the key."""
        key = self.key_for(to_path)
        transfer.upload_fileobj(self.get_s3_client(), self.bucket_name, key, from_file_object,
                                upload_kwargs)
        return key

    @async_dispatch
    def upload_from_folder(
        self, /, from_folder: str | Path, to_folder: str | None = None, **upload_kwargs: Any
    ) -> str | None:
        """Upload every file under a local folder to ``to_folder`` (default: the root).

        Returns:
            ``to_folder`` as given (``""`` for the root), as prefect-aws returns it, or ``None``
            when the folder had no files.
        """
        prefix = self.prefix_for(to_folder)
        count = transfer.upload_folder(self.get_s3_client(), self.bucket_name, prefix,
                                       Path(from_folder), upload_kwargs)
        if not count:
            _log.warning("No files were uploaded from %r.", str(from_folder))
            return None
        return to_folder or ""

    @async_dispatch
    def download_object_to_path(
        self, /, from_path: str, to_path: str | Path | None = None, **download_kwargs: Any
    ) -> Path:
        """Download an object to a local file (streamed; the file appears only when complete).

        Args:
            from_path: object path.
            to_path: local file; default: the object's name in the current directory.
            **download_kwargs: boto3 ``download_file`` arguments.

        Returns:
            The local file's absolute path.
        """
        target = Path(to_path if to_path is not None else Path(from_path).name).absolute()
        transfer.download_file(self.get_s3_client(), self.bucket_name, self.key_for(from_path),
                               target, download_kwargs)
        return target

    @async_dispatch
    def download_object_to_file_object(
        self, /, from_path: str, to_file_object: IO[bytes], **download_kwargs: Any
    ) -> IO[bytes]:
        """Download an object into a binary file object (in chunks); returns the file object."""
        transfer.download_fileobj(self.get_s3_client(), self.bucket_name,
                                  self.key_for(from_path), to_file_object, download_kwargs)
        return to_file_object

    @async_dispatch
    def download_folder_to_path(
        self, /, from_folder: str, to_folder: str | Path | None = None, **download_kwargs: Any
    ) -> Path:
        """Download every object under ``from_folder`` into a local folder (default: cwd).

        Keys that would land outside ``to_folder`` (``..`` segments) are refused.

        Returns:
            The local folder's absolute path.
        """
        target = Path(to_folder if to_folder is not None else ".").absolute()
        transfer.download_folder(self.get_s3_client(), self.bucket_name,
                                 self.prefix_for(from_folder), target, download_kwargs)
        return target

    @async_dispatch
    def stream_from(
        self, /, bucket: S3Bucket, from_path: str, to_path: str | None = None, **upload_kwargs: Any
    ) -> str:
        """Stream an object from another bucket block into this one, without a local copy.

        Returns:
            The new object's key (default path: the source object's name).
        """
        key = self.key_for(to_path if to_path is not None else Path(from_path).name)
        source = bucket.get_s3_client().get_object(
            Bucket=bucket.bucket_name, Key=bucket.key_for(from_path)
        )
        body = source["Body"]
        try:
            transfer.upload_fileobj(self.get_s3_client(), self.bucket_name, key, body,
                                    upload_kwargs)
        finally:
            body.close()
        return key

    def copy_object(
        self, /, from_path: str | Path, to_path: str | Path,
        to_bucket: S3Bucket | str | None = None, **copy_kwargs: Any,
    ) -> str:
        """Copy an object server-side, within this bucket or to ``to_bucket``.

        Args:
            to_bucket: another bucket block (``to_path`` is inside its folder), or a bucket
                name (``to_path`` is a full key); default: this bucket.
            **copy_kwargs: boto3 ``copy`` ``ExtraArgs`` (``MetadataDirective``...).

        Returns:
            The new object's key.
        """
        bucket_name, key = self._target(to_path, to_bucket)
        transfer.copy(self.get_s3_client(), self.bucket_name, self.key_for(from_path),
                      bucket_name, key, copy_kwargs)
        return key

    @async_dispatch
    def move_object(
        self, /, from_path: str | Path, to_path: str | Path, to_bucket: S3Bucket | str | None = None
    ) -> str:
        """Copy an object (as :meth:`copy_object`), then delete the source; returns the key."""
        key = self.copy_object(from_path, to_path, to_bucket)
        self.get_s3_client().delete_object(Bucket=self.bucket_name, Key=self.key_for(from_path))
        return key

    @async_dispatch
    def get_directory(self, /, from_path: str | None = None, local_path: str | None = None) -> None:
        """Prefect's file-system call: download ``from_path`` (default: the whole folder) into
        ``local_path`` (default: the current directory)."""
        self.download_folder_to_path(from_path or "", local_path)

    @async_dispatch
    def put_directory(
        self, /, local_path: str | None = None, to_path: str | None = None,
        ignore_file: str | None = None,
    ) -> int:
        """Prefect's file-system call: upload ``local_path`` (default: cwd) to ``to_path``.

        Args:
            ignore_file: a file of glob patterns (one per line, ``#`` comments) of paths to
                skip, relative to ``local_path``.

        Returns:
            The number of files uploaded.
        """
        patterns = transfer.read_ignore_file(Path(ignore_file)) if ignore_file else []
        return transfer.upload_folder(self.get_s3_client(), self.bucket_name,
                                      self.prefix_for(to_path), Path(local_path or "."), {},
                                      ignore=patterns)

    def _target(self, to_path: str | Path, to_bucket: S3Bucket | str | None) -> tuple[str, str]:
        if to_bucket is None:
            return self.bucket_name, self.key_for(to_path)
        if isinstance(to_bucket, S3Bucket):
            return to_bucket.bucket_name, to_bucket.key_for(to_path)
        if isinstance(to_bucket, str):
            parts = key_parts(Path(to_path).as_posix())
            if not parts:
                raise InvalidArgument("to_path must name an object")
            return to_bucket, "/".join(parts)
        raise TypeError(f"to_bucket must be an S3Bucket or a bucket name, not {to_bucket!r}")

    # -- async twins: the methods above, always awaitable, run off the event loop ------------

    aread_path: ClassVar = async_twin(read_path)
    awrite_path: ClassVar = async_twin(write_path)
    alist_objects: ClassVar = async_twin(list_objects)
    aupload_from_path: ClassVar = async_twin(upload_from_path)
    aupload_from_file_object: ClassVar = async_twin(upload_from_file_object)
    aupload_from_folder: ClassVar = async_twin(upload_from_folder)
    adownload_object_to_path: ClassVar = async_twin(download_object_to_path)
    adownload_object_to_file_object: ClassVar = async_twin(download_object_to_file_object)
    adownload_folder_to_path: ClassVar = async_twin(download_folder_to_path)
    astream_from: ClassVar = async_twin(stream_from)
    acopy_object: ClassVar = async_twin(copy_object)
    amove_object: ClassVar = async_twin(move_object)
    aget_directory: ClassVar = async_twin(get_directory)
    aput_directory: ClassVar = async_twin(put_directory)
