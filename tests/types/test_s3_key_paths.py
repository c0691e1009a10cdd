"""Issue 17, point 7: an S3 path that would leave the bucket folder is a BlocksError that is also
a ValueError (Prefect code catches ValueError), naming the path and the fix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from blocks import AwsCredentials, BlocksError, InvalidArgument, S3Bucket


@pytest.mark.parametrize("call", [
    lambda b: b.key_for("../x"),
    lambda b: b.key_for("a/../../x"),
    lambda b: b.key_for(""),
    lambda b: b.prefix_for("../up"),
], ids=["key-parent", "key-nested-parent", "key-empty", "prefix-parent"])
def test_bad_object_path_is_a_blocks_error_and_a_value_error(
    call: Callable[[S3Bucket], Any],
) -> None:
    bucket = S3Bucket(bucket_name="data", bucket_folder="team",
                      credentials=AwsCredentials(region_name="us-east-1"))
    with pytest.raises(InvalidArgument) as caught:
        call(bucket)
    assert isinstance(caught.value, BlocksError) and isinstance(caught.value, ValueError)
    assert "path" in str(caught.value)
    assert bucket.key_for("a/./b") == "team/a/b"
