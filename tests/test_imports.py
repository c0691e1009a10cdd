"""``import blocks`` stays light: no SDKs, no SQLAlchemy, no Terraform framework."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ["boto3", "botocore", "hvac", "grpc", "tf", "sqlalchemy", "alembic", "psycopg",
         "sqlmodel", "snowflake", "httpx", "prefect"]


def imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    return {m.split(".")[0] for m in out.split()}


def test_import_blocks_imports_no_heavy_packages() -> None:
    assert imported_after("import blocks").isdisjoint(HEAVY)


def test_loading_a_builtin_type_imports_no_sdk() -> None:
    loaded = imported_after("from blocks import S3Bucket, SnowflakeConnector, GitHubRepository, "
                            "DatabaseCredentials, Secret")
    assert loaded.isdisjoint(HEAVY)


def test_sdk_free_load_path(tmp_path: object) -> None:
    code = (f"import os; os.environ['BLOCKS_HOME'] = {str(tmp_path)!r}\n"
            "from blocks import Secret\nSecret(value='x').save('x')\n"
            "import sys; [sys.modules.pop(m) for m in list(sys.modules) if m.startswith('sqla')]")
    subprocess.run([sys.executable, "-c", code], check=True)
    loaded = imported_after(f"import os; os.environ['BLOCKS_HOME'] = {str(tmp_path)!r}\n"
                            "from blocks import Secret\nassert Secret.load('x').get() == 'x'")
    assert loaded.isdisjoint(HEAVY)


def test_import_blocks_does_not_import_the_prefect_bridge() -> None:
    probe = ("import blocks, blocks.pools, sys\n"
             "print(' '.join(m for m in sys.modules if m.startswith('blocks.integrations')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == ""
