"""The main journey on the embedded default (SQLite + local master key).

Run with ``scripts/demo.sh`` (or ``python examples/journey.py [--home DIR]``). It initialises a
registry, saves and loads every built-in block type, uses some for real work, rotates a secret
and rolls it back, shows that referenced blocks cannot be deleted, and declares a work pool
whose rendered job resolves a secret block. Every step checks its
result, so the script fails loudly if anything is wrong. Secrets are never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from blocks import (
    AwsCredentials,
    Block,
    DatabaseCredentials,
    GitHubCredentials,
    GitHubRepository,
    ReferencedBlockError,
    Registry,
    S3Bucket,
    Secret,
    Settings,
    SnowflakeConnector,
    SnowflakeCredentials,
    WorkPool,
)
from blocks.codec import to_display


def step(title: str) -> None:
    print(f"\n== {title}")


def show(block: Block) -> None:
    print(f"   {block.block_ref} v{block.block_version}: "
          f"{json.dumps(to_display(block), sort_keys=True)}")


def cli(home: Path, *argv: str) -> str:
    env = {**os.environ, "BLOCKS_HOME": str(home)}
    out = subprocess.run([sys.executable, "-m", "blocks.cli", *argv], check=True,
                         capture_output=True, text=True, env=env)
    return out.stdout


def pem_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(b"demo-passphrase"))


def make_git_repo(root: Path) -> str:
    work, bare = root / "work", root / "flows.git"
    work.mkdir()
    (work / "flows").mkdir()
    (work / "flows" / "etl.py").write_text("def etl():\n    return 'rows loaded'\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "demo", "GIT_AUTHOR_EMAIL": "demo@example.com",
           "GIT_COMMITTER_NAME": "demo", "GIT_COMMITTER_EMAIL": "demo@example.com"}
    for argv in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "flows"]):
        subprocess.run(["git", *argv], cwd=work, check=True, env=env)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    return bare.as_uri()


def terraform_journey(home: Path, registry: Registry) -> None:
    """``blocks terraform install``, then apply examples/terraform and correct a drift."""
    import shutil

    repo = Path(__file__).resolve().parents[1]
    work = home / "tf"
    for part in ("examples/terraform", "terraform/modules/work-pool"):
        shutil.copytree(repo / part, work / part, ignore=shutil.ignore_patterns(
            ".terraform", "*.tfstate*", ".terraform.lock.hcl"))
    cli(home, "terraform", "install")
    env = {**os.environ, "BLOCKS_HOME": str(home),
           "TF_CLI_CONFIG_FILE": str(home / "terraform" / "terraform.rc"),
           "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    terraform = shutil.which("terraform", path=str(Path(sys.executable).parent)) or "terraform"

    def tf(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([terraform, *argv, "-no-color"], cwd=work / "examples/terraform",
                              env=env, capture_output=True, text=True, check=False)

    # The lake and the flows repository were made in Python above: adopt them with import,
    # then apply makes them match the configuration.
    for argv in (("init", "-input=false"),
                 ("import", "blocks_s3_bucket.lake", "data-lake"),
                 ("import", "blocks_github_repository.flows", "flows"),
                 ("apply", "-auto-approve", "-input=false")):
        done = tf(*argv)
        if done.returncode != 0:
            raise SystemExit(f"terraform {argv[0]} failed:\n{done.stdout}{done.stderr}")
    print("   terraform init, import of 2 blocks made in Python, apply: ok")
    print("   " + cli(home, "ls").replace("\n", "\n   ").rstrip())
    print("   " + cli(home, "pools", "ls").replace("\n", "\n   ").rstrip())
    lake = S3Bucket.load("data-lake", registry=registry)
    lake.bucket_folder = "edited-by-hand"
    lake.save("data-lake", overwrite=True, registry=registry)
    plan = tf("plan", "-detailed-exitcode", "-input=false")
    assert plan.returncode == 2 and "edited-by-hand" in plan.stdout, plan.stdout + plan.stderr
    print("   drift seen by terraform plan: bucket_folder \"edited-by-hand\" -> \"raw\"")
    assert tf("apply", "-auto-approve", "-input=false").returncode == 0
    assert S3Bucket.load("data-lake", registry=registry).bucket_folder == "raw"
    assert tf("plan", "-detailed-exitcode", "-input=false").returncode == 0
    print("   terraform apply corrected it; the next plan has no changes")
    state = (work / "examples/terraform/terraform.tfstate").read_text()
    generated = Secret.load("warehouse-password", registry=registry).get()
    assert isinstance(generated, str) and generated not in state
    print("   the generated warehouse password is in the registry, not in terraform.tfstate")


def journey(home: Path) -> None:
    step(f"initialise an embedded registry in {home}")
    print(cli(home, "init"), end="")
    registry = Registry(Settings(home=home))

    step("save and load every built-in type")
    Secret(value="xoxb-demo-slack-token").save("slack-token", registry=registry)
    aws = AwsCredentials(aws_access_key_id="AKIADEMO", aws_secret_access_key="demo-aws-secret",
                         region_name="eu-west-1")
    aws.save("prod", registry=registry)
    S3Bucket(bucket_name="data-lake", bucket_folder="raw",
             credentials=AwsCredentials.load("prod", registry=registry)).save(
        "data-lake", registry=registry)
    SnowflakeCredentials(account="xy12345.eu-west-1", user="loader", private_key=pem_key(),
                         private_key_passphrase="demo-passphrase",
                         authenticator="snowflake_jwt").save("warehouse", registry=registry)
    SnowflakeConnector(credentials=SnowflakeCredentials.load("warehouse", registry=registry),
                       database="analytics", warehouse="etl_wh", schema="public").save(
        "analytics", registry=registry)
    GitHubCredentials(token="ghp_demo_token_never_printed").save("ci", registry=registry)
    with tempfile.TemporaryDirectory() as scratch:
        repo_url = make_git_repo(Path(scratch))
        GitHubRepository(repository_url=repo_url, reference="main",
                         credentials=GitHubCredentials.load("ci", registry=registry)).save(
            "flows", registry=registry)
        DatabaseCredentials(driver="sqlite", database=str(home / "warehouse.db")).save(
            "local-db", registry=registry)
        for ref in ("secret/slack-token", "aws-credentials/prod", "s3-bucket/data-lake",
                    "snowflake-credentials/warehouse", "snowflake-connector/analytics",
                    "github-credentials/ci", "github-repository/flows",
                    "database-credentials/local-db"):
            show(registry.load(ref))

        step("use blocks for real work")
        assert Secret.load("slack-token", registry=registry).get() == "xoxb-demo-slack-token"
        lake = S3Bucket.load("data-lake", registry=registry)
        assert lake.credentials.block_ref == "aws-credentials/prod"
        print(f"   s3 key for 2026/11/21.csv: {lake.key_for('2026/11/21.csv')}")
        repo = GitHubRepository.load("flows", registry=registry)
        checkout = repo.get_directory(local_path=Path(scratch) / "checkout")
        print(f"   cloned flows: {sorted(p.name for p in (checkout / 'flows').iterdir())}")
        from sqlalchemy import text

        engine = DatabaseCredentials.load("local-db", registry=registry).get_engine()
        with engine.connect() as conn:
            print(f"   database answers: {conn.execute(text('select 40 + 2')).scalar()}")
        engine.dispose()

    step("rotate a secret without redeploying, see its history, roll it back")
    Secret(value="xoxb-rotated-token").save("slack-token", overwrite=True, registry=registry)
    assert Secret.load("slack-token", registry=registry).get() == "xoxb-rotated-token"
    print(cli(home, "history", "secret/slack-token"), end="")
    Secret.rollback("slack-token", 1, registry=registry)
    assert Secret.load("slack-token", registry=registry).get() == "xoxb-demo-slack-token"
    print(cli(home, "history", "secret/slack-token"), end="")

    step("a block others reference cannot be deleted")
    try:
        registry.delete("aws-credentials/prod")
    except ReferencedBlockError as exc:
        print(f"   refused: {exc}")
    else:
        raise AssertionError("delete of a referenced block was allowed")

    step("declare a Kubernetes work pool and render the job a worker would run")
    Secret(value="db-pass-for-flows").save("warehouse-db-pass", registry=registry)
    pool = WorkPool(name="k8s-etl", type="kubernetes", concurrency_limit=4)
    pool.save(registry=registry)
    pool.create_queue("critical", priority=1, registry=registry)
    print(cli(home, "pools", "queues", "ls", "k8s-etl"), end="")
    job = pool.render_job(
        {"image": "acme/etl:1.4", "env": {"DB_PASS": "{{ blocks.secret.warehouse-db-pass }}"}},
        queue="critical", registry=registry,
    )
    container = job.configuration["job_manifest"]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "DB_PASS", "value": "db-pass-for-flows"} in container["env"]
    masked = job.masked()["job_manifest"]["spec"]["template"]["spec"]["containers"][0]
    assert "db-pass-for-flows" not in json.dumps(masked)
    print(f"   rendered container (masked): {json.dumps(masked, sort_keys=True)}")

    step("the CLI masks secrets")
    out = cli(home, "inspect", "aws-credentials/prod")
    assert "demo-aws-secret" not in out
    print(out, end="")
    print(cli(home, "ls"), end="")

    step("declare blocks and a work pool as code with Terraform (offline), then fix drift")
    terraform_journey(home, registry)

    step("no secret is in the database file")
    data = b"".join(p.read_bytes() for p in home.glob("blocks.db*"))
    for secret in (b"xoxb-demo-slack-token", b"demo-aws-secret", b"ghp_demo_token_never_printed",
                   b"db-pass-for-flows"):
        assert secret not in data
    print(f"   checked {len(data)} bytes of {', '.join(p.name for p in home.glob('blocks.db*'))}")
    registry.close()
    print("\njourney complete")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, help="registry home (default: a new temp dir)")
    args = parser.parse_args()
    if args.home:
        journey(args.home)
    else:
        with tempfile.TemporaryDirectory(prefix="blocks-journey-") as tmp:
            journey(Path(tmp))


if __name__ == "__main__":
    main()
