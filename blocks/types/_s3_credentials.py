"""The credentials an :class:`~blocks.types.s3.S3Bucket` takes: an AWS or a MinIO credentials
block (or a stored reference to one), told apart before validation so that an error names the
fields of the kind that was meant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Union

from pydantic import Discriminator, Tag

from blocks.core import PREFECT_SLUG_KEY, REF_KEY
from blocks.types.aws import AwsCredentials, MinIOCredentials

CREDENTIAL_TAGS = {"aws", "minio", "ref"}
"""The union's tags (taken out of error paths: ``credentials.aws.region_name`` reads
``credentials.region_name``)."""


def _credentials_kind(value: Any) -> str:
    if isinstance(value, MinIOCredentials):
        return "minio"
    if isinstance(value, Mapping):
        if REF_KEY in value:
            return "ref"  # a stored reference: its type is known once it is resolved
        if "minio_root_user" in value or value.get(PREFECT_SLUG_KEY) == "minio-credentials":
            return "minio"
    return "aws"


# Tagged so that errors name the fields of the kind that was meant, not of both kinds.
Credentials = Annotated[
    Union[  # noqa: UP007 - Annotated members need the Union[...] spelling
        Annotated[AwsCredentials, Tag("aws")],
        Annotated[MinIOCredentials, Tag("minio")],
        Annotated[AwsCredentials | MinIOCredentials, Tag("ref")],
    ],
    Discriminator(_credentials_kind),
]
