"""Prefect's server takes every built-in block type as a flow parameter: the parameter schema
Prefect builds from the flow's signature, a deployment with a sample document as the
parameter's value, and a flow run created with it (the server validates both against the
schema; a schema no validator can satisfy made it refuse S3Bucket)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from blocks import catalog
from blocks.integrations.prefect import PrefectClient
from tests.core.test_json_schema import inline, sample_documents
from tests.servers import Server


@pytest.fixture
def client(prefect_server: Server) -> Iterator[PrefectClient]:
    with PrefectClient(prefect_server.extra["api_url"]) as api:
        yield api


def test_prefect_accepts_every_block_type_as_a_deployment_parameter(
    client: PrefectClient,
) -> None:
    # Imported here, not at collection: every pytest process collects this file, and
    # importing Prefect costs each of them a second of CPU.
    pytest.importorskip("prefect", reason="needs the dev extra (prefect==3.8.*)")
    from prefect.utilities.callables import parameter_schema

    flow = client.request("POST", "flows/", "flow", json={"name": "blocks-parameter-schemas"})
    refs = {ref.split("/")[0]: ref for ref in sample_documents()}
    for slug, ref in sorted(refs.items()):
        def uses_a_block(block):  # type: ignore[no-untyped-def]
            return block

        uses_a_block.__annotations__ = {"block": catalog.get(slug)}
        schema = parameter_schema(uses_a_block).model_dump(mode="json")
        document = inline({"$ref": ref})
        deployment = client.request("POST", "deployments/", f"deployment of {slug}", json={
            "name": f"takes-{slug}", "flow_id": flow["id"], "enforce_parameter_schema": True,
            "parameter_openapi_schema": schema, "parameters": {"block": document},
        })
        run = client.request(
            "POST", f"deployments/{deployment['id']}/create_flow_run", f"flow run of {slug}",
            json={"parameters": {"block": document}})
        assert run["parameters"] == {"block": document}
        client.request("DELETE", f"deployments/{deployment['id']}", f"deployment of {slug}")
