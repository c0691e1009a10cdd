"""The Prefect bridge (extra ``blocks-registry[prefect]``): Prefect's REST API over httpx.

* :mod:`~blocks.integrations.prefect.publish` -- work pools and queues published to Prefect;
* :mod:`~blocks.integrations.prefect.mirror` -- blocks mirrored as Prefect block documents;
* :mod:`~blocks.integrations.prefect.importer` -- Prefect block documents imported into Blocks.

The ``prefect`` package is never imported; ``import blocks`` never imports this package.
"""

from __future__ import annotations

from blocks.integrations.prefect.client import PrefectClient

__all__ = ["PrefectClient"]
