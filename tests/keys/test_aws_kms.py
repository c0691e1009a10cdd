"""The aws-kms provider passes the key-provider contract against a moto KMS server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from blocks.errors import KeyProviderError
from blocks.keys.aws_kms import AwsKmsKeyProvider
from blocks.keys.base import KeyProvider
from blocks.keys.factory import provider_from_settings
from blocks.settings import Settings
from tests.keys.contract import KeyProviderContract
from tests.servers import Server, closed_port_url

pytestmark = pytest.mark.aws


class TestAwsKmsKeyProvider(KeyProviderContract):
    @pytest.fixture
    def provider(self, kms_key: str) -> KeyProvider:
        return provider_from_settings(Settings(key_provider="aws-kms", kms_key_id=kms_key))

    @pytest.fixture
    def other_provider(self, aws_env: Server) -> KeyProvider:
        import boto3

        client = boto3.client("kms", endpoint_url=aws_env.url)
        key_id = client.create_key()["KeyMetadata"]["KeyId"]
        return AwsKmsKeyProvider(key_id, client=client)

    @pytest.fixture
    def unreachable(
        self, aws_env: Server, kms_key: str
    ) -> tuple[Callable[[], KeyProvider], str]:
        url = closed_port_url()
        return (lambda: AwsKmsKeyProvider(kms_key, endpoint_url=url, connect_timeout=1)), url

    @pytest.fixture
    def sensitive(self) -> list[str]:
        return ["testing-secret-never-printed"]


def test_accepts_key_id_alias_and_arn(aws_env: Server) -> None:
    import boto3

    client = boto3.client("kms", endpoint_url=aws_env.url)
    meta = client.create_key()["KeyMetadata"]
    client.create_alias(AliasName="alias/blocks-forms", TargetKeyId=meta["KeyId"])
    for key_id in (meta["KeyId"], meta["Arn"], "alias/blocks-forms"):
        provider = AwsKmsKeyProvider(key_id, endpoint_url=aws_env.url)
        assert provider.unwrap(provider.wrap(b"k" * 32, {"a": "b"}), {"a": "b"}) == b"k" * 32


def test_unknown_key_is_a_key_provider_error(aws_env: Server) -> None:
    provider = AwsKmsKeyProvider("alias/does-not-exist", endpoint_url=aws_env.url)
    with pytest.raises(KeyProviderError) as info:
        provider.check()
    assert info.value.provider == "aws-kms"
    assert "not found" in info.value.reason



def test_unreachable_endpoint_reason_is_short(aws_env: Server, kms_key: str) -> None:
    url = closed_port_url()
    provider = AwsKmsKeyProvider(kms_key, endpoint_url=url, connect_timeout=1)
    with pytest.raises(KeyProviderError) as info:
        provider.check()
    assert str(info.value) == f"key provider aws-kms at {url}: unreachable (connection failed)"
