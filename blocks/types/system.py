"""System blocks: :class:`Secret`."""

from __future__ import annotations

import pydantic
from pydantic import Field, JsonValue

from blocks.core import Block


class Secret(Block):
    """A secret string or JSON value, e.g. an API token or a JSON service-account key.

    Example:
        >>> Secret(value="s3cr3t").save("api-token")                 # doctest: +SKIP
        >>> Secret.load("api-token").get()                           # doctest: +SKIP
        's3cr3t'
    """

    value: pydantic.Secret[JsonValue] = Field(
        description="The secret: a string or any JSON value (object, list, number...).",
        json_schema_extra={"format": "password", "writeOnly": True},
    )

    def get(self) -> JsonValue:
        """The secret value, exactly as saved."""
        return self.value.get_secret_value()
