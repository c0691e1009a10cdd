"""Every resource under real Terraform: create -> import and verify -> update -> out-of-band
change detected and corrected -> destroy (the terraform-provider-prefect ``block_test.go`` walk).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from blocks.errors import BlockNotFound, WorkPoolNotFound, WorkQueueNotFound
from blocks.pools import WorkPool
from blocks.registry import Registry
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

AWS = """
resource "blocks_aws_credentials" "creds" {
  name                  = "creds"
  aws_access_key_id     = "AKIAEXAMPLE0000"
  aws_secret_access_key = "aws-secret-one"
}
"""
SNOWFLAKE = """
resource "blocks_snowflake_credentials" "sf" {
  name     = "sf"
  account  = "nh12345.us-east-2.aws"
  user     = "etl"
  password = "snow-pass-one"
}
"""
GITHUB = """
resource "blocks_github_credentials" "gh" {
  name  = "gh"
  token = "ghp_tokenone"
}
"""
POOL = """
resource "blocks_work_pool" "etl" {
  name = "etl"
  type = "process"
}
"""


def _set(registry: Registry, ref: str, **changes: object) -> None:
    block = registry.load(ref)
    for key, value in changes.items():
        setattr(block, key, value)
    registry.save(block, ref.split("/")[1], overwrite=True)


def _field(registry: Registry, ref: str, name: str) -> object:
    value = getattr(registry.load(ref), name)
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


@dataclass
class Case:
    """One resource's walk."""

    address: str
    import_id: str
    create: str
    update: str
    check_created: Callable[[Registry], None]
    check_updated: Callable[[Registry], None]
    drift: Callable[[Registry], None]
    drift_shows: str
    gone: Callable[[Registry], bool]


def _block_gone(ref: str) -> Callable[[Registry], bool]:
    def gone(registry: Registry) -> bool:
        try:
            registry.load(ref)
        except BlockNotFound:
            return True
        return False

    return gone


def _pool_gone(registry: Registry) -> bool:
    try:
        WorkPool.load("etl", registry=registry)
    except WorkPoolNotFound:
        return True
    return False


def _queue_gone(registry: Registry) -> bool:
    try:
        WorkPool.load("etl", registry=registry).queue("fast")
    except (WorkPoolNotFound, WorkQueueNotFound):
        return True
    return False


def _pool_set(registry: Registry, **changes: object) -> None:
    pool = WorkPool.load("etl", registry=registry)
    for key, value in changes.items():
        setattr(pool, key, value)
    pool.save()


def _queue_set(registry: Registry, **changes: object) -> None:
    queue = WorkPool.load("etl", registry=registry).queue("fast")
    for key, value in changes.items():
        setattr(queue, key, value)
    queue.save()


CASES = [
    Case(
        "blocks_secret.api", "api",
        'resource "blocks_secret" "api" {\n  name  = "api"\n  value = "secret-one"\n}\n',
        'resource "blocks_secret" "api" {\n  name  = "api"\n  value = "secret-two"\n}\n',
        lambda r: _assert(r.load("secret/api").get() == "secret-one"),
        lambda r: _assert(r.load("secret/api").get() == "secret-two"),
        lambda r: _set(r, "secret/api", value="changed-out-of-band"),
        "value",
        _block_gone("secret/api"),
    ),
    Case(
        "blocks_aws_credentials.creds", "creds", AWS,
        AWS.replace("aws-secret-one", "aws-secret-two").replace(
            '}\n', '  region_name           = "eu-west-1"\n}\n'),
        lambda r: _assert(_field(r, "aws-credentials/creds", "aws_secret_access_key")
                          == "aws-secret-one"),
        lambda r: _assert(_field(r, "aws-credentials/creds", "region_name") == "eu-west-1"),
        lambda r: _set(r, "aws-credentials/creds", region_name="us-west-2"),
        '"us-west-2" -> "eu-west-1"',
        _block_gone("aws-credentials/creds"),
    ),
    Case(
        "blocks_s3_bucket.lake", "s3-bucket/lake",
        AWS + 'resource "blocks_s3_bucket" "lake" {\n  name        = "lake"\n'
              '  bucket_name = "data-lake"\n  credentials = blocks_aws_credentials.creds.id\n}\n',
        AWS + 'resource "blocks_s3_bucket" "lake" {\n  name          = "lake"\n'
              '  bucket_name   = "data-lake"\n  bucket_folder = "raw"\n'
              '  credentials   = blocks_aws_credentials.creds.id\n}\n',
        lambda r: _assert(r.load("s3-bucket/lake").credentials.block_ref
                          == "aws-credentials/creds"),
        lambda r: _assert(_field(r, "s3-bucket/lake", "bucket_folder") == "raw"),
        lambda r: _set(r, "s3-bucket/lake", bucket_name="other-bucket"),
        '"other-bucket" -> "data-lake"',
        _block_gone("s3-bucket/lake"),
    ),
    Case(
        "blocks_snowflake_credentials.sf", "sf", SNOWFLAKE,
        SNOWFLAKE.replace('}\n', '  role     = "loader"\n}\n'),
        lambda r: _assert(_field(r, "snowflake-credentials/sf", "password") == "snow-pass-one"),
        lambda r: _assert(_field(r, "snowflake-credentials/sf", "role") == "loader"),
        lambda r: _set(r, "snowflake-credentials/sf", password="changed-out-of-band"),
        "password",
        _block_gone("snowflake-credentials/sf"),
    ),
    Case(
        "blocks_snowflake_connector.wh", "wh",
        SNOWFLAKE + 'resource "blocks_snowflake_connector" "wh" {\n  name        = "wh"\n'
                    '  credentials = blocks_snowflake_credentials.sf.id\n  database    = "raw"\n'
                    '  warehouse   = "load_wh"\n  schema      = "public"\n}\n',
        SNOWFLAKE + 'resource "blocks_snowflake_connector" "wh" {\n  name        = "wh"\n'
                    '  credentials = blocks_snowflake_credentials.sf.id\n  database    = "raw"\n'
                    '  warehouse   = "big_wh"\n  schema      = "public"\n}\n',
        lambda r: _assert(_field(r, "snowflake-connector/wh", "warehouse") == "load_wh"),
        lambda r: _assert(_field(r, "snowflake-connector/wh", "warehouse") == "big_wh"),
        lambda r: _set(r, "snowflake-connector/wh", database="other"),
        '"other" -> "raw"',
        _block_gone("snowflake-connector/wh"),
    ),
    Case(
        "blocks_github_credentials.gh", "gh", GITHUB, GITHUB.replace("tokenone", "tokentwo"),
        lambda r: _assert(_field(r, "github-credentials/gh", "token") == "ghp_tokenone"),
        lambda r: _assert(_field(r, "github-credentials/gh", "token") == "ghp_tokentwo"),
        lambda r: _set(r, "github-credentials/gh", token="ghp_changed"),
        "token",
        _block_gone("github-credentials/gh"),
    ),
    Case(
        "blocks_github_repository.flows", "flows",
        GITHUB + 'resource "blocks_github_repository" "flows" {\n  name           = "flows"\n'
                 '  repository_url = "https://github.com/acme/flows.git"\n'
                 '  credentials    = blocks_github_credentials.gh.id\n}\n',
        GITHUB + 'resource "blocks_github_repository" "flows" {\n  name           = "flows"\n'
                 '  repository_url = "https://github.com/acme/flows.git"\n'
                 '  reference      = "v1"\n  credentials    = blocks_github_credentials.gh.id\n}\n',
        lambda r: _assert(r.load("github-repository/flows").credentials is not None),
        lambda r: _assert(_field(r, "github-repository/flows", "reference") == "v1"),
        lambda r: _set(r, "github-repository/flows", reference="main"),
        '"main" -> "v1"',
        _block_gone("github-repository/flows"),
    ),
    Case(
        "blocks_database_credentials.db", "db",
        'resource "blocks_database_credentials" "db" {\n  name     = "db"\n'
        '  driver   = "postgresql+psycopg"\n  host     = "db.internal"\n  database = "app"\n'
        '  username = "etl"\n  password = "db-pass-one"\n'
        '  query    = jsonencode({ sslmode = "require" })\n}\n',
        'resource "blocks_database_credentials" "db" {\n  name     = "db"\n'
        '  driver   = "postgresql+psycopg"\n  host     = "db.internal"\n  port     = 6543\n'
        '  database = "app"\n  username = "etl"\n  password = "db-pass-one"\n'
        '  query    = jsonencode({ sslmode = "require" })\n}\n',
        lambda r: _assert(_field(r, "database-credentials/db", "query") == {"sslmode": "require"}),
        lambda r: _assert(_field(r, "database-credentials/db", "port") == 6543),
        lambda r: _set(r, "database-credentials/db", host="evil.example"),
        '"evil.example" -> "db.internal"',
        _block_gone("database-credentials/db"),
    ),
    Case(
        "blocks_block.generic", "github-credentials/generic",
        'resource "blocks_block" "generic" {\n  type = "github-credentials"\n'
        '  name = "generic"\n  data = jsonencode({ token = "ghp_generic1" })\n}\n',
        'resource "blocks_block" "generic" {\n  type = "github-credentials"\n'
        '  name = "generic"\n  data = jsonencode({ token = "ghp_generic2" })\n}\n',
        lambda r: _assert(_field(r, "github-credentials/generic", "token") == "ghp_generic1"),
        lambda r: _assert(_field(r, "github-credentials/generic", "token") == "ghp_generic2"),
        lambda r: _set(r, "github-credentials/generic", token="ghp_changed"),
        "data",
        _block_gone("github-credentials/generic"),
    ),
    Case(
        "blocks_work_pool.etl", "etl",
        POOL.replace('}\n', '  concurrency_limit = 4\n}\n'),
        POOL.replace('}\n', '  concurrency_limit = 8\n  paused = true\n'
                            '  description = "nightly"\n}\n'),
        lambda r: _assert(WorkPool.load("etl", registry=r).concurrency_limit == 4),
        lambda r: _assert(WorkPool.load("etl", registry=r).is_paused),
        lambda r: _pool_set(r, concurrency_limit=1),
        "concurrency_limit = 1 -> 8",
        _pool_gone,
    ),
    Case(
        "blocks_work_queue.fast", "etl/fast",
        POOL + 'resource "blocks_work_queue" "fast" {\n  pool     = blocks_work_pool.etl.name\n'
               '  name     = "fast"\n  priority = 2\n}\n',
        POOL + 'resource "blocks_work_queue" "fast" {\n  pool     = blocks_work_pool.etl.name\n'
               '  name     = "fast"\n  priority = 3\n  concurrency_limit = 2\n}\n',
        lambda r: _assert(WorkPool.load("etl", registry=r).queue("fast").priority == 2),
        lambda r: _assert(WorkPool.load("etl", registry=r).queue("fast").concurrency_limit == 2),
        lambda r: _queue_set(r, priority=7),
        "7 -> 3",
        _queue_gone,
    ),
]


def _assert(condition: bool) -> None:
    assert condition


# One walk as users run it: Terraform launches the installed provider for every command. On
# the oldest binary only: the newer one launches it in test_interrupt, test_secrets_in_state and
# test_ephemeral, and 34 provider starts cost this walk 15 s of CPU per binary.
LAUNCHED = "blocks_secret"


@pytest.mark.parametrize("case", [
    pytest.param(c, id=c.address.split(".")[0],
                 marks=[pytest.mark.tf_launcher(oldest_only=True)]
                 if c.address.startswith(LAUNCHED + ".") else [])
    for c in CASES])
def test_resource_lifecycle(case: Case, tf: Terraform, tf_registry: Registry) -> None:
    tf.write(case.create)
    tf.apply()
    case.check_created(tf_registry)
    tf.assert_no_changes()

    tf.import_(case.address, case.import_id)
    tf.assert_no_changes()

    tf.write(case.update)
    tf.apply()
    case.check_updated(tf_registry)
    tf.assert_no_changes()

    case.drift(tf_registry)
    code, out = tf.plan()
    assert code == 2, out
    assert case.drift_shows in out
    tf.apply()
    case.check_updated(tf_registry)
    tf.assert_no_changes()

    tf.destroy()
    assert case.gone(tf_registry)
