"""WorkPool / WorkQueue recipe API on both databases: versions, compare-and-set, queue rules."""

from __future__ import annotations

import pytest

from blocks import Registry, Secret
from blocks.errors import (
    ConflictError,
    InvalidName,
    ValidationError,
    WorkPoolNotFound,
    WorkQueueNotFound,
)
from blocks.pools import DEFAULT_QUEUE, WorkPool, default_base_job_template

pytestmark = pytest.mark.over_http  # the registry fixture runs through a blocks server too

SECRET = "hunter2-db-password"


def _pool(registry: Registry, name: str = "k8s", pool_type: str = "kubernetes") -> WorkPool:
    return WorkPool(name=name, type=pool_type).save(registry=registry)  # type: ignore[arg-type]


# -- pools ---------------------------------------------------------------------------------------


def test_new_pool_gets_the_default_template_of_its_type(registry: Registry) -> None:
    pool = _pool(registry, "docker-pool", "docker")
    assert pool.version == 1
    loaded = WorkPool.load("docker-pool", registry=registry)
    assert loaded.base_job_template == default_base_job_template("docker")
    assert loaded.type == "docker"
    assert loaded.created_at is not None


def test_every_save_is_a_new_version_kept_in_history(registry: Registry) -> None:
    pool = _pool(registry)
    pool.description = "second"
    pool.save()
    pool.concurrency_limit = 4
    pool.save(note="limit")
    assert [p.version for p in WorkPool.history("k8s", registry=registry)] == [1, 2, 3]
    assert WorkPool.load("k8s", version=2, registry=registry).description == "second"
    assert WorkPool.load("k8s", registry=registry).concurrency_limit == 4


def test_saving_a_new_pool_under_a_taken_name_is_refused(registry: Registry) -> None:
    _pool(registry)
    with pytest.raises(ConflictError, match="already exists"):
        WorkPool(name="k8s", type="kubernetes").save(registry=registry)


def test_overwrite_adds_a_version_to_a_pool_of_the_same_type(registry: Registry) -> None:
    _pool(registry)
    pool = WorkPool(name="k8s", type="kubernetes", description="replaced")
    assert pool.save(overwrite=True, registry=registry).version == 2


def test_stale_writer_gets_conflict_error_and_loses_nothing(registry: Registry) -> None:
    _pool(registry)
    first = WorkPool.load("k8s", registry=registry)
    second = WorkPool.load("k8s", registry=registry)
    first.description = "first"
    first.save()
    second.description = "second"
    with pytest.raises(ConflictError, match="someone else wrote first"):
        second.save()
    assert WorkPool.load("k8s", registry=registry).description == "first"


def test_expected_version_zero_means_must_not_exist(registry: Registry) -> None:
    _pool(registry)
    with pytest.raises(ConflictError):
        WorkPool(name="k8s", type="kubernetes").save(expected_version=0, registry=registry)


def test_pool_name_is_immutable(registry: Registry) -> None:
    pool = _pool(registry)
    with pytest.raises(ValidationError, match="name cannot change"):
        pool.name = "other"


def test_pool_type_is_immutable(registry: Registry) -> None:
    pool = _pool(registry)
    with pytest.raises(ValidationError, match="type cannot change"):
        pool.type = "docker"


def test_pool_type_cannot_change_through_overwrite(registry: Registry) -> None:
    _pool(registry)
    with pytest.raises(ValidationError) as caught:
        WorkPool(name="k8s", type="docker").save(overwrite=True, registry=registry)
    assert caught.value.errors[0][0] == "type"
    assert WorkPool.load("k8s", registry=registry).type == "kubernetes"


def test_pool_name_follows_the_naming_rule() -> None:
    with pytest.raises(InvalidName, match="lowercase letters, digits and dashes"):
        WorkPool(name="K8s_Prod", type="kubernetes")


def test_pool_type_must_be_one_of_the_four() -> None:
    with pytest.raises(ValidationError) as caught:
        WorkPool(name="p", type="lambda")  # type: ignore[arg-type]
    assert caught.value.errors[0][0] == "type"


def test_pool_concurrency_limit_cannot_be_negative() -> None:
    with pytest.raises(ValidationError) as caught:
        WorkPool(name="p", type="process", concurrency_limit=-1)
    assert caught.value.errors[0][0] == "concurrency_limit"


def test_invalid_template_is_refused_on_save(registry: Registry) -> None:
    template = default_base_job_template("process")
    template["job_configuration"]["command"] = "{{ comand }}"
    with pytest.raises(ValidationError) as caught:
        WorkPool(name="p", type="process", base_job_template=template).save(registry=registry)
    assert caught.value.errors[0][0] == "job_configuration.command"
    with pytest.raises(WorkPoolNotFound):
        WorkPool.load("p", registry=registry)


def test_template_naming_a_missing_block_is_refused_on_save(registry: Registry) -> None:
    template = default_base_job_template("process")
    template["variables"]["properties"]["env"]["default"] = {"PW": "{{ blocks.secret.db-pw }}"}
    pool = WorkPool(name="p", type="process", base_job_template=template)
    with pytest.raises(ValidationError, match="secret/db-pw, which does not exist"):
        pool.save(registry=registry)
    Secret(value=SECRET).save("db-pw", registry=registry)
    assert pool.save(registry=registry).version == 1


def test_pause_and_resume_are_saved(registry: Registry) -> None:
    _pool(registry).pause()
    assert WorkPool.load("k8s", registry=registry).is_paused is True
    WorkPool.load("k8s", registry=registry).resume()
    assert WorkPool.load("k8s", registry=registry).is_paused is False


def test_delete_removes_the_pool_and_its_queues(registry: Registry) -> None:
    _pool(registry).create_queue("critical")
    WorkPool.delete("k8s", registry=registry)
    with pytest.raises(WorkPoolNotFound):
        WorkPool.load("k8s", registry=registry)
    _pool(registry)
    assert [q.name for q in WorkPool.load("k8s", registry=registry).queues()] == [DEFAULT_QUEUE]


def test_list_pools_by_name(registry: Registry) -> None:
    _pool(registry, "b", "process")
    _pool(registry, "a", "docker")
    assert [(p.name, p.type) for p in WorkPool.list_pools(registry=registry)] == [
        ("a", "docker"), ("b", "process"),
    ]


def test_missing_pool_raises_work_pool_not_found(registry: Registry) -> None:
    with pytest.raises(WorkPoolNotFound, match="blocks pools ls"):
        WorkPool.load("nope", registry=registry)
    with pytest.raises(WorkPoolNotFound):
        WorkPool.delete("nope", registry=registry)


# -- queues --------------------------------------------------------------------------------------


def test_every_pool_gets_a_default_queue(registry: Registry) -> None:
    queues = _pool(registry).queues()
    assert [(q.name, q.priority) for q in queues] == [(DEFAULT_QUEUE, 1)]


def test_default_queue_cannot_be_deleted(registry: Registry) -> None:
    pool = _pool(registry)
    with pytest.raises(ConflictError, match=r"default queue .* cannot be deleted"):
        pool.delete_queue(DEFAULT_QUEUE)
    with pytest.raises(ConflictError):
        pool.queue(DEFAULT_QUEUE).delete()
    assert pool.queue(DEFAULT_QUEUE).name == DEFAULT_QUEUE


def test_default_queue_can_be_paused_and_reprioritised(registry: Registry) -> None:
    default = _pool(registry).queue()
    default.priority = 5
    default.pause()
    stored = WorkPool.load("k8s", registry=registry).queue()
    assert (stored.priority, stored.is_paused, stored.version) == (5, True, 2)


def test_queue_names_are_unique_within_a_pool(registry: Registry) -> None:
    pool = _pool(registry)
    pool.create_queue("critical")
    with pytest.raises(ConflictError, match="already has a queue 'critical'"):
        pool.create_queue("critical")
    other = _pool(registry, "other", "process")
    assert other.create_queue("critical").pool == "other"


def test_new_queue_priority_defaults_to_below_the_lowest(registry: Registry) -> None:
    pool = _pool(registry)
    assert pool.create_queue("high", priority=5).priority == 5
    assert pool.create_queue("low").priority == 6
    assert [q.name for q in pool.queues()] == ["default", "high", "low"]


def test_a_taken_priority_moves_the_other_queues_down_as_prefect_does(
    registry: Registry,
) -> None:
    pool = _pool(registry)
    pool.create_queue("bulk", priority=2)
    pool.create_queue("backfill", priority=5)
    critical = pool.create_queue("critical", priority=1)
    assert critical.priority == 1
    assert [(q.name, q.priority, q.version) for q in pool.queues()] == [
        ("critical", 1, 1), ("default", 2, 2), ("bulk", 3, 2), ("backfill", 5, 1)]
    backfill = pool.queue("backfill")
    backfill.priority = 2
    backfill.save()
    assert [(q.name, q.priority) for q in pool.queues()] == [
        ("critical", 1), ("backfill", 2), ("default", 3), ("bulk", 4)]
    stale = pool.queue("default")
    stale.priority = 9
    with pytest.raises(ConflictError, match="someone else wrote first"):
        stale.save(expected_version=2)  # moved by the last save: version 3 now
    assert pool.queue("default").priority == 3


def test_queue_priority_must_be_at_least_one(registry: Registry) -> None:
    pool = _pool(registry)
    with pytest.raises(ValidationError) as caught:
        pool.create_queue("bad", priority=0)
    assert caught.value.errors[0][0] == "priority"
    assert [q.name for q in pool.queues()] == [DEFAULT_QUEUE]
    with pytest.raises(ValidationError):
        pool.queue().concurrency_limit = -1


def test_queue_name_and_pool_are_immutable(registry: Registry) -> None:
    queue = _pool(registry).create_queue("critical")
    with pytest.raises(ValidationError, match="name cannot change"):
        queue.name = "other"
    with pytest.raises(ValidationError, match="cannot move"):
        queue.pool = "elsewhere"


def test_stale_queue_update_gets_conflict_error(registry: Registry) -> None:
    pool = _pool(registry)
    pool.create_queue("critical")
    first, second = pool.queue("critical"), pool.queue("critical")
    first.concurrency_limit = 3
    first.save()
    second.description = "late"
    with pytest.raises(ConflictError, match="someone else wrote first"):
        second.save()
    assert pool.queue("critical").concurrency_limit == 3


def test_queue_can_be_deleted(registry: Registry) -> None:
    pool = _pool(registry)
    pool.create_queue("critical").delete()
    with pytest.raises(WorkQueueNotFound):
        pool.queue("critical")
    with pytest.raises(WorkQueueNotFound):
        pool.delete_queue("critical")


def test_queue_of_a_missing_pool_is_refused(registry: Registry) -> None:
    pool = WorkPool(name="ghost", type="process")
    with pytest.raises(WorkPoolNotFound):
        pool.create_queue("q", registry=registry)


# -- rendering through the registry ------------------------------------------------------------


def test_render_job_resolves_a_secret_block_from_the_registry(registry: Registry) -> None:
    Secret(value=SECRET).save("db-password", registry=registry)
    pool = _pool(registry)
    pool.create_queue("critical")
    job = WorkPool.load("k8s", registry=registry).render_job(
        {"env": {"DB_PASSWORD": "{{ blocks.secret.db-password }}"}}, queue="critical"
    )
    container = job.configuration["job_manifest"]["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [{"name": "DB_PASSWORD", "value": SECRET}]
    assert job.queue == "critical"
    assert job.configuration["job_manifest"]["metadata"]["labels"]["blocks.io/work-queue"] == (
        "critical"
    )
    assert SECRET not in repr(job)


def test_render_job_resolves_nested_block_fields(registry: Registry) -> None:
    from blocks import AwsCredentials

    AwsCredentials(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="wJalr-secret",
                   region_name="eu-west-1").save("prod", registry=registry)
    pool = _pool(registry, "ecs", "ecs")
    job = pool.render_job({"aws_credentials": "{{ blocks.aws-credentials.prod }}",
                           "env": {"REGION": "{{ blocks.aws-credentials.prod.region_name }}"}})
    assert job.configuration["aws_credentials"]["aws_secret_access_key"] == "wJalr-secret"
    assert "wJalr-secret" not in str(job.masked())
    assert job.masked()["env"] == {"REGION": "eu-west-1"}


def test_render_job_for_a_missing_queue_is_refused(registry: Registry) -> None:
    with pytest.raises(WorkQueueNotFound):
        _pool(registry).render_job({}, queue="nope")


def test_render_job_with_a_missing_block_names_the_variable(registry: Registry) -> None:
    with pytest.raises(ValidationError) as caught:
        _pool(registry).render_job({"env": {"PW": "{{ blocks.secret.nope }}"}})
    assert caught.value.errors[0][0] == "job_variables.env.PW"


def test_the_store_renders_a_stored_pool_masked_unless_asked(registry: Registry) -> None:
    Secret(value=SECRET).save("db-password", registry=registry)
    _pool(registry, "proc", "process").create_queue("critical")
    values = {"env": {"PW": "{{ blocks.secret.db-password }}"}}
    masked = registry.pool_store().render("proc", values, queue="critical")
    assert masked.configuration["env"] == {"PW": "********"}
    assert (masked.pool, masked.queue, masked.pool_type) == ("proc", "critical", "process")
    assert masked.has_secrets and masked.secrets_masked and SECRET not in repr(masked)
    shown = registry.pool_store().render("proc", values, show_secrets=True)
    assert shown.configuration["env"] == {"PW": SECRET} and not shown.secrets_masked
    with pytest.raises(WorkQueueNotFound):
        registry.pool_store().render("proc", values, queue="nope")
    with pytest.raises(ValidationError) as caught:
        registry.pool_store().render("proc", {"nope": 1})
    assert caught.value.errors[0][0] == "job_variables.nope"
