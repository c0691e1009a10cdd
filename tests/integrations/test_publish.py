"""Pools and queues published to a real Prefect 3.8 server: plan, apply, drift, prune, errors."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from blocks import Registry, Secret
from blocks.cli.main import main
from blocks.errors import PrefectError, ValidationError
from blocks.integrations.prefect import PrefectClient
from blocks.integrations.prefect.publish import plan, publish
from blocks.pools import WorkPool, default_base_job_template
from tests.servers import Server, closed_port_url


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def etl_pool(registry: Registry, name: str, **extra: Any) -> WorkPool:
    pool = WorkPool(name=name, type="process", description="nightly ETL", concurrency_limit=4,
                    **extra).save(registry=registry)
    default = pool.queue(registry=registry)
    default.priority = 3
    default.save(registry=registry)
    pool.create_queue("critical", priority=1, description="pages", concurrency_limit=2,
                      registry=registry)
    pool.create_queue("bulk", priority=2, is_paused=True, registry=registry)
    return pool


def prefect_queues(client: PrefectClient, pool: str) -> dict[str, dict[str, Any]]:
    found = client.request("POST", f"work_pools/{pool}/queues/filter", "queues", json={})
    return {q["name"]: q for q in found}


def test_publish_creates_pool_and_queues_with_the_same_settings(
    bridge_registry: Registry, prefect: PrefectClient
) -> None:
    name = unique("etl")
    pool = etl_pool(bridge_registry, name)
    publish(prefect, [pool], bridge_registry)

    theirs = prefect.request("GET", f"work_pools/{name}", "pool")
    assert (theirs["type"], theirs["description"], theirs["concurrency_limit"],
            theirs["is_paused"]) == ("process", "nightly ETL", 4, False)
    assert theirs["base_job_template"] == pool.base_job_template
    queues = prefect_queues(prefect, name)
    assert {n: (q["priority"], q["concurrency_limit"], q["is_paused"], q["description"] or None)
            for n, q in queues.items()} == {
        "critical": (1, 2, False, "pages"),
        "bulk": (2, None, True, None),
        "default": (3, None, False, pool.queue(registry=bridge_registry).description),
    }


def test_publishing_an_unchanged_pool_costs_two_read_calls_and_no_write(
    bridge_registry: Registry, prefect: PrefectClient
) -> None:
    pool = etl_pool(bridge_registry, unique("idem"))
    publish(prefect, [pool], bridge_registry)
    prefect.calls.clear()
    again = publish(prefect, [pool], bridge_registry)
    assert again.changes == []
    assert len(prefect.calls) == 2
    assert prefect.write_calls == []


def test_dry_run_prints_the_plan_and_changes_nothing(
    bridge_registry: Registry, prefect: PrefectClient, capsys: pytest.CaptureFixture[str]
) -> None:
    name = unique("dry")
    etl_pool(bridge_registry, name)
    assert main(["pools", "publish", name, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"+ work pool {name} (create)" in out
    assert f"+ work queue {name}/critical (create)" in out
    assert "Plan: 4 to create, 0 to change, 0 to delete." in out
    assert prefect.request("GET", f"work_pools/{name}", "pool", missing_ok=True) is None


def test_out_of_band_change_on_prefect_shows_as_drift_and_publish_restores_it(
    bridge_registry: Registry, prefect: PrefectClient, capsys: pytest.CaptureFixture[str]
) -> None:
    name = unique("drift")
    pool = etl_pool(bridge_registry, name)
    publish(prefect, [pool], bridge_registry)
    prefect.request("PATCH", f"work_pools/{name}", "pool",
                    json={"description": "changed by hand", "concurrency_limit": 9})
    prefect.request("PATCH", f"work_pools/{name}/queues/bulk", "queue",
                    json={"is_paused": False})

    assert main(["pools", "diff", name, "--detailed-exitcode"]) == 2
    out = capsys.readouterr().out
    assert 'description: "changed by hand" -> "nightly ETL"' in out
    assert "concurrency_limit: 9 -> 4" in out
    assert f"~ work queue {name}/bulk" in out and "is_paused: false -> true" in out

    assert main(["pools", "publish", name]) == 0
    capsys.readouterr()
    assert main(["pools", "diff", name, "--detailed-exitcode"]) == 0
    assert "no changes" in capsys.readouterr().out


def test_queue_only_on_prefect_is_listed_and_deleted_only_with_prune(
    bridge_registry: Registry, prefect: PrefectClient
) -> None:
    name = unique("prune")
    pool = etl_pool(bridge_registry, name)
    publish(prefect, [pool], bridge_registry)
    prefect.request("POST", f"work_pools/{name}/queues", "queue", json={"name": "stray"})

    kept = publish(prefect, [pool], bridge_registry)
    assert [(c.action, c.name) for c in kept.changes] == [("extra", f"{name}/stray")]
    assert "stray" in prefect_queues(prefect, name)

    pruned = publish(prefect, [pool], bridge_registry, prune=True)
    assert [(c.action, c.name) for c in pruned.changes] == [("delete", f"{name}/stray")]
    assert "stray" not in prefect_queues(prefect, name)


def test_a_taken_priority_moves_the_queues_as_prefects_own_server_does(
    bridge_registry: Registry, prefect: PrefectClient
) -> None:
    name, twin = unique("shift"), unique("twin")
    pool = WorkPool(name=name, type="process").save(registry=bridge_registry)
    prefect.request("POST", "work_pools/", "pool", json={"name": twin, "type": "process"})
    steps = [("create", "bulk", 2), ("create", "critical", 1), ("update", "bulk", 1)]
    for action, queue, priority in steps:
        if action == "create":
            pool.create_queue(queue, priority=priority, registry=bridge_registry)
            prefect.request("POST", f"work_pools/{twin}/queues", "queue",
                            json={"name": queue, "priority": priority})
        else:
            ours = pool.queue(queue, registry=bridge_registry)
            ours.priority = priority
            ours.save(registry=bridge_registry)
            prefect.request("PATCH", f"work_pools/{twin}/queues/{queue}", "queue",
                            json={"priority": priority})
        expected = {n: q["priority"] for n, q in prefect_queues(prefect, twin).items()}
        assert {q.name: q.priority for q in pool.queues(registry=bridge_registry)} == expected
    assert expected == {"bulk": 1, "critical": 2, "default": 3}
    publish(prefect, [pool], bridge_registry)
    assert {n: q["priority"] for n, q in prefect_queues(prefect, name).items()} == expected
    assert publish(prefect, [pool], bridge_registry).writes == []


# -- templates --------------------------------------------------------------------------------


def template_with(env_default: dict[str, str]) -> Any:
    template = default_base_job_template("process")
    template["variables"]["properties"]["env"]["default"] = env_default
    return template


def test_non_secret_block_field_is_resolved_and_prefect_placeholders_pass_untouched(
    bridge_registry: Registry, prefect: PrefectClient
) -> None:
    from blocks import AwsCredentials

    AwsCredentials(region_name="eu-west-3", aws_access_key_id="AKIAEXAMPLE",
                   aws_secret_access_key="wJalrXUtnFEMI").save("prod", registry=bridge_registry)
    name = unique("tpl")
    from blocks.integrations.prefect.documents import block_type, write_document

    kind = block_type(prefect, "aws-credentials")
    assert kind is not None
    doc_id, _ = write_document(prefect, kind, name, {"region_name": "eu-west-3"})
    object_var = {"aws_credentials": {
        "title": "AWS credentials", "allOf": [{"$ref": "#/definitions/AwsCredentials"}],
        "default": {"$ref": {"block_document_id": doc_id}},
    }}
    template = template_with({
        "REGION": "{{ blocks.aws-credentials.prod.region_name }}",
        "DB_PASSWORD": "{{ prefect.blocks.secret.db-pass }}",
        "MODE": "{{ prefect.variables.mode }}",
    })
    template["variables"]["definitions"] = {"AwsCredentials": {"type": "object"}}
    template["variables"]["properties"].update(object_var)
    pool = WorkPool(name=name, type="process", base_job_template=template)
    pool.save(registry=bridge_registry)  # Blocks' own validation accepts Prefect's forms
    publish(prefect, [pool], bridge_registry)

    published = prefect.request("GET", f"work_pools/{name}", "pool")["base_job_template"]
    assert published["variables"]["properties"]["env"]["default"] == {
        "REGION": "eu-west-3",
        "DB_PASSWORD": "{{ prefect.blocks.secret.db-pass }}",
        "MODE": "{{ prefect.variables.mode }}",
    }
    assert published["variables"]["properties"]["aws_credentials"] == object_var[
        "aws_credentials"]
    assert "blocks." not in json.dumps(published).replace("prefect.blocks.", "")


def test_secret_placeholder_is_refused_with_the_way_out(
    bridge_registry: Registry, prefect: PrefectClient
) -> None:
    Secret(value="s3cr3t-db-pass").save("db-pass", registry=bridge_registry)
    name = unique("sec")
    pool = WorkPool(name=name, type="process",
                    base_job_template=template_with({"PW": "{{ blocks.secret.db-pass }}"}))
    pool.save(registry=bridge_registry)
    with pytest.raises(ValidationError) as caught:
        publish(prefect, [pool], bridge_registry)
    message = str(caught.value)
    assert "variables.properties.env.default.PW" in message
    assert "Secret.load('db-pass')" in message
    assert "blocks mirror secret/db-pass --to prefect" in message
    assert "{{ prefect.blocks.secret.db-pass }}" in message
    assert "s3cr3t" not in message
    assert prefect.request("GET", f"work_pools/{name}", "pool", missing_ok=True) is None


# -- publish on save ----------------------------------------------------------------------------


def test_pool_with_publish_to_prefect_publishes_on_every_save(
    bridge_registry: Registry, prefect: PrefectClient
) -> None:
    name = unique("auto")
    pool = WorkPool(name=name, type="process", publish_to_prefect=True)
    pool.save(registry=bridge_registry)
    assert prefect.request("GET", f"work_pools/{name}", "pool")["description"] is None
    pool.description = "now described"
    pool.save(registry=bridge_registry)
    assert prefect.request("GET", f"work_pools/{name}", "pool")["description"] == "now described"
    pool.create_queue("hot", priority=2, registry=bridge_registry)
    assert prefect_queues(prefect, name)["hot"]["priority"] == 2
    assert WorkPool.load(name, registry=bridge_registry).publish_to_prefect is True


def test_publish_on_save_failure_keeps_the_save_and_says_how_to_retry(
    blocks_home: Any, prefect_server: Server
) -> None:
    from blocks import Settings

    down = Registry(Settings(home=blocks_home, prefect_api_url=closed_port_url() + "/api"))
    name = unique("down")
    with pytest.raises(PrefectError) as caught:
        WorkPool(name=name, type="process", publish_to_prefect=True).save(registry=down)
    assert f"work pool {name!r} is saved in Blocks, but publishing" in str(caught.value)
    assert f"blocks pools publish {name}" in str(caught.value)
    assert "unreachable" in str(caught.value)
    assert WorkPool.load(name, registry=down).version == 1
    down.close()


# -- errors ---------------------------------------------------------------------------------------


def test_unreachable_server_error_names_the_server_and_the_object(
    bridge_registry: Registry
) -> None:
    url = closed_port_url() + "/api"
    pool = WorkPool(name=unique("gone"), type="process").save(registry=bridge_registry)
    with PrefectClient(url) as client, pytest.raises(PrefectError) as caught:
        plan(client, [pool], bridge_registry)
    assert url in str(caught.value) and f"work pool '{pool.name}'" in str(caught.value)


def test_422_from_prefect_names_the_server_the_object_and_the_field(
    prefect: PrefectClient, prefect_server: Server
) -> None:
    with pytest.raises(PrefectError) as caught:
        prefect.request("POST", "work_pools/", "work pool 'bad'",
                        json={"name": "bad", "type": "process", "concurrency_limit": -1})
    message = str(caught.value)
    assert prefect_server.url in message and "work pool 'bad'" in message
    assert "HTTP 422" in message and "concurrency_limit" in message


def test_blocks_validation_places_prefect_placeholders_where_prefect_accepts_them() -> None:
    from blocks.pools import validate_base_job_template

    accepted = template_with({"PW": "{{ prefect.blocks.secret.db-pass }}",
                              "MODE": "{{ prefect.variables.mode }}"})
    validate_base_job_template(accepted)
    refused = default_base_job_template("process")
    refused["job_configuration"]["name"] = "{{ prefect.variables.mode }}"
    with pytest.raises(ValidationError) as caught:
        validate_base_job_template(refused, ref="work-pool/x")
    assert caught.value.errors == [(
        "job_configuration.name",
        "{{ prefect.variables.mode }} is resolved by Prefect's worker in job-variable values "
        "only (the Prefect server refuses it in job_configuration): put it in a variable's "
        "default, e.g. variables.properties.env.default",
    )]
