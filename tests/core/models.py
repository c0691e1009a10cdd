"""Block types used only by the tests (their slugs start with ``test-``)."""

from __future__ import annotations

from pydantic import Field, SecretBytes, SecretStr, field_validator

from blocks import Block, SecretDict


class TestCreds(Block):
    """Credentials with every kind of secret."""

    __test__ = False
    block_type_slug = "test-creds"

    user: str = Field(description="user name")
    password: SecretStr = Field(description="password")
    blob: SecretBytes | None = Field(default=None, description="binary secret")
    headers: SecretDict = Field(default_factory=dict, description="secret headers")

    @field_validator("user")
    @classmethod
    def _no_spaces(cls, value: str) -> str:
        if " " in value:
            raise ValueError("must not contain spaces")
        return value


class TestService(Block):
    """A block that nests another."""

    __test__ = False
    block_type_slug = "test-service"

    url: str
    creds: TestCreds
    backup: TestCreds | None = None
