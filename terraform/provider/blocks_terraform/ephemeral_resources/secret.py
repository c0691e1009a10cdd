"""``ephemeral "blocks_secret"``: a secret's value, kept out of plan and state."""

from __future__ import annotations

import json
from typing import Any

from tf import types
from tf.schema import Attribute

from blocks_terraform.ephemeral_resources.base import EphemeralResource


class SecretEphemeralResource(EphemeralResource):
    """The ``blocks_secret`` ephemeral resource."""

    slug = "secret"
    description = "Read a `secret` block's value."

    @classmethod
    def attributes(cls) -> list[Attribute]:
        return [Attribute("value", types.String(), computed=True, sensitive=True,
                          description="The secret: its text, or for a JSON secret the JSON "
                                      "document as text (`jsondecode(...)` it).")]

    def values(self, block: Any) -> dict[str, Any]:
        value = block.get()
        return {"value": value if isinstance(value, str) else json.dumps(value, sort_keys=True)}
