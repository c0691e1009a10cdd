"""Every module's ``examples/complete`` (and the journey) under real Terraform, offline:
``fmt -check``, ``validate``, apply, a clean second plan, destroy; then what the blocks hold."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from blocks.errors import WorkPoolNotFound
from blocks.pools import WorkPool
from blocks.registry import Registry
from tests.terraform.conftest import Terraform

pytestmark = pytest.mark.terraform

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "terraform" / "modules"
FINGERPRINT_KEY = "secret/terraform-fingerprint-key"


def _secret(registry: Registry, ref: str, name: str) -> str:
    return str(getattr(registry.load(ref), name).get_secret_value())


def _check_lake(r: Registry, tf: Terraform) -> None:
    creds = r.load("aws-credentials/lake-loader")
    assert creds.role_arn == "arn:aws:iam::123456789012:role/lake-loader"
    assert creds.region_name == "eu-west-1"
    raw, curated = r.load("s3-bucket/raw"), r.load("s3-bucket/curated")
    assert (raw.bucket_name, raw.bucket_folder) == ("acme-lake-raw", "")
    assert (curated.bucket_name, curated.bucket_folder) == ("acme-lake-curated", "v1")
    assert curated.credentials.block_ref == "aws-credentials/lake-loader"


def _check_snowflake(r: Registry, tf: Terraform) -> None:
    connector = r.load("snowflake-connector/warehouse")
    assert (connector.database, connector.warehouse, connector.schema_) == (
        "raw", "load_wh", "public")
    assert connector.credentials.block_ref == "snowflake-credentials/warehouse"
    assert _secret(r, "snowflake-credentials/warehouse", "password") == "sf-example-pass"


def _check_github(r: Registry, tf: Terraform) -> None:
    repository = r.load("github-repository/flows-repo")
    assert repository.reference == "main"
    assert repository.credentials.block_ref == "github-credentials/flows-repo"
    assert _secret(r, "github-credentials/flows-repo", "token") == "ghp_moduleexample"


def _check_postgres(r: Registry, tf: Terraform) -> None:
    password = r.load("secret/app-db-password").get()
    assert isinstance(password, str) and len(password) == 32
    creds = r.load("database-credentials/app-db")
    assert (creds.host, creds.port, creds.database, creds.username) == (
        "db.internal", 5432, "app", "app")
    assert creds.password.get_secret_value() == password
    assert password not in tf.state_text()


def _check_work_pool(r: Registry, tf: Terraform) -> None:
    pool = WorkPool.load("nightly-etl", registry=r)
    assert pool.type == "kubernetes" and pool.concurrency_limit == 10
    properties = pool.base_job_template["variables"]["properties"]
    assert properties["image"]["default"] == "ghcr.io/acme/flows:1.4"
    assert properties["namespace"]["default"] == "etl"
    assert properties["cpu_request"]["default"] == "500m"
    assert properties["memory_request"]["default"] == "1Gi"
    assert properties["env"]["default"] == {
        "LOG_LEVEL": "info", "BLOCKS_DATABASE_URL":
        "postgresql+psycopg://etl_runs@blocks-db.internal:5432/blocks",
        "BLOCKS_KEY_PROVIDER": "aws-kms", "BLOCKS_KMS_KEY_ID": "alias/blocks",
        "AWS_REGION": "eu-west-1"}
    queues = {q.name: q for q in pool.queues()}
    assert {name: q.priority for name, q in queues.items()} == {
        "critical": 1, "default": 2, "backfill": 5}
    assert queues["backfill"].is_paused and queues["backfill"].description == (
        "Re-runs of past days")
    assert not queues["critical"].is_paused


def _check_journey(r: Registry, tf: Terraform) -> None:
    assert r.load("s3-bucket/data-lake").bucket_name == "acme-data-lake"


@dataclass
class Example:
    """One runnable example: where it is, its variables, what the registry holds after."""

    path: str
    check: Callable[[Registry, Terraform], None]
    variables: dict[str, str] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()


EXAMPLES = [
    Example("terraform/modules/aws-s3-data-lake/examples/complete", _check_lake,
            outputs=("bucket_ids", "credentials_id")),
    Example("terraform/modules/snowflake-connection/examples/complete", _check_snowflake,
            {"snowflake_password": "sf-example-pass"}, ("connector_id",)),
    Example("terraform/modules/github-repository/examples/complete", _check_github,
            {"github_token": "ghp_moduleexample"}, ("repository_id",)),
    Example("terraform/modules/postgres-connection/examples/complete", _check_postgres,
            outputs=("credentials_id", "password_fingerprint")),
    Example("terraform/modules/work-pool/examples/complete", _check_work_pool,
            outputs=("pool_id", "queues")),
    Example("examples/terraform", _check_journey, outputs=("lake",)),
]


def _checkout(tf: Terraform, example: str) -> Path:
    """Copy the modules and the example (relative module sources) next to the working dir."""
    base = tf.workdir.parent / "repo"
    shutil.copytree(MODULES, base / "terraform" / "modules")
    if not example.startswith("terraform/modules"):
        shutil.copytree(ROOT / example, base / example)
    return base / example


def _left_over(registry: Registry) -> list[str]:
    return [s.ref for s in registry.list() if s.ref != FINGERPRINT_KEY]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.path.split("/")[-3] if "modules" in e.path
                                                    else "journey" for e in EXAMPLES])
def test_module_example_formats_validates_applies_replans_clean_and_destroys(
    example: Example, tf: Terraform, tf_registry: Registry
) -> None:
    module_dir = ROOT / (example.path.split("/examples/")[0] if "modules" in example.path
                         else example.path)
    tf.run("fmt", "-check", "-recursive", "-diff", str(module_dir))
    tf.workdir = _checkout(tf, example.path)
    for name, value in example.variables.items():
        tf.env[f"TF_VAR_{name}"] = value
    tf.run("init")  # offline: the providers come from the mirror, the modules are local
    tf.run("validate")
    tf.apply()
    tf.assert_no_changes()
    example.check(tf_registry, tf)
    outputs = tf.run("output", "-json").stdout
    for name in example.outputs:
        assert f'"{name}"' in outputs
    tf.destroy()
    assert _left_over(tf_registry) == []


def test_postgres_module_rotates_the_generated_password_in_one_apply(
    tf: Terraform, tf_registry: Registry
) -> None:
    tf.workdir = _checkout(tf, "terraform/modules/postgres-connection/examples/complete")
    main = tf.workdir / "main.tf"
    tf.run("init")
    tf.apply()
    first = tf_registry.load("secret/app-db-password").get()
    main.write_text(main.read_text().replace("2026-q4", "2027-q1"))
    tf.apply()
    second = tf_registry.load("secret/app-db-password").get()
    assert second != first
    assert _secret(tf_registry, "database-credentials/app-db", "password") == second
    tf.assert_no_changes()

    # Out of band: the copied password is changed; the fingerprint shows it, apply restores.
    creds = tf_registry.load("database-credentials/app-db")
    creds.password = "set-by-hand"
    tf_registry.save(creds, "app-db", overwrite=True)
    code, out = tf.plan()
    assert code == 2 and '"changed-outside-terraform"' in out, out
    tf.apply()
    assert _secret(tf_registry, "database-credentials/app-db", "password") == second
    tf.assert_no_changes()
    text = tf.state_text()
    assert first not in text and second not in text and "set-by-hand" not in text


BAD_CALLS = """
module "lake" {
  source  = "../terraform/modules/aws-s3-data-lake"
  name    = "Lake"
  region  = "Europe"
  buckets = { raw = { bucket_name = "not a bucket", folder = "" } }
}
module "sf" {
  source    = "../terraform/modules/snowflake-connection"
  name      = "sf"
  account   = "nh12345.snowflakecomputing.com"
  user      = "etl"
  database  = "raw"
  warehouse = "wh"
}
module "gh" {
  source         = "../terraform/modules/github-repository"
  name           = "gh"
  repository_url = "github.com/acme/flows"
}
module "pg" {
  source          = "../terraform/modules/postgres-connection"
  name            = "pg"
  host            = "db.internal"
  database        = "app"
  username        = "app"
  port            = 70000
  password_length = 8
}
module "pool" {
  source = "../terraform/modules/work-pool"
  name   = "pool"
  cpu    = "lots"
  env    = { DB = "{{ secret.db }}" }
}
"""


def test_module_variables_are_validated(tf: Terraform) -> None:
    base = tf.workdir.parent / "repo"
    shutil.copytree(MODULES, base / "terraform" / "modules")
    tf.workdir = base / "bad"
    tf.workdir.mkdir()
    tf.write(BAD_CALLS, header=False)
    tf.run("init")
    code, out = tf.plan()
    assert code == 1
    for message in ("The name must be", "The region must look like", "Every bucket_name must",
                    "The account must be an account identifier", "The repository_url must be",
                    "The port must be a whole number", "The password_length must be",
                    "The cpu must be a number", "must be a block placeholder"):
        assert message in " ".join(out.split()), message


@pytest.mark.parametrize("call, message", [
    ('type = "docker"\n  namespace = "etl"',
     "namespace is not a job variable of docker pools (it is for: kubernetes)"),
    ('queues = {}\n  queue_settings = { q = { description = "", paused = true } }',
     "queue_settings.q names no queue"),
    ('type = "ecs"\n  cpu = "500m"', "variables.properties.cpu.default: must be of type integer"),
], ids=["namespace-on-docker", "settings-of-no-queue", "ecs-cpu-not-a-number"])
def test_work_pool_module_refuses_inputs_that_do_not_apply(
    call: str, message: str, tf: Terraform, tf_registry: Registry
) -> None:
    base = tf.workdir.parent / "repo"
    shutil.copytree(MODULES, base / "terraform" / "modules")
    tf.workdir = base / "bad"
    tf.workdir.mkdir()
    tf.write(f'module "pool" {{\n  source = "../terraform/modules/work-pool"\n'
             f'  name   = "pool"\n  {call}\n}}\n', header=False)
    tf.run("init")
    proc = tf.run("apply", "-auto-approve", check=False)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 1
    assert message in out, out
    with pytest.raises(WorkPoolNotFound):
        WorkPool.load("pool", registry=tf_registry)


@pytest.mark.parametrize("module", sorted(p.name for p in MODULES.iterdir()))
def test_module_has_the_terraform_aws_modules_layout_and_documents_every_input(
    module: str,
) -> None:
    folder = MODULES / module
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md",
                 "examples/complete/main.tf"):
        assert (folder / name).is_file(), f"{module}/{name}"
    assert re.search(r'^resource "blocks_\w+" "this"', (folder / "main.tf").read_text(), re.M)
    readme = (folder / "README.md").read_text()
    variables = (folder / "variables.tf").read_text()
    for name in re.findall(r'^variable "(\w+)"', variables, re.M):
        assert f"\n| {name} |" in readme, f"{module}: input {name} missing from README"
    for block in re.split(r'^variable ', variables, flags=re.M)[1:]:
        assert "description" in block and "type" in block, block.splitlines()[0]
    for name in re.findall(r'^output "(\w+)"', (folder / "outputs.tf").read_text(), re.M):
        assert f"\n| {name} |" in readme, f"{module}: output {name} missing from README"
    assert "validation {" in variables
