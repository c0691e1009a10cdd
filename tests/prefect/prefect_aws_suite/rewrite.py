"""Point prefect-aws's own tests at Blocks by changing their imports, nothing else.

``python -m tests.prefect.prefect_aws_suite.rewrite SRC DST`` copies the test files of the
prefect-aws sdist (SRC: its ``tests/`` folder) to DST, rewriting each
``from prefect_aws... import name`` whose ``name`` Blocks provides (:data:`BLOCKS_NAMES`) to
import it from Blocks. Names Blocks does not provide (prefect-aws's tasks such as
``s3_download``, its private helpers) stay imported from ``prefect_aws``, so its tasks run with
our blocks as their arguments. ``mock.patch`` targets are import paths too: those naming
prefect-aws's module-level ``boto3`` are pointed at ``boto3`` itself (:data:`PATCH_TARGETS`).
No statement other than imports and those patch strings is touched.
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

# (prefect-aws module, name) -> Blocks module that provides the same public class.
BLOCKS_NAMES: dict[tuple[str, str], str] = {
    ("prefect_aws", "AwsCredentials"): "blocks",
    ("prefect_aws", "MinIOCredentials"): "blocks",
    ("prefect_aws", "S3Bucket"): "blocks",
    ("prefect_aws", "AwsClientParameters"): "blocks.types.aws",
    ("prefect_aws.credentials", "AwsCredentials"): "blocks",
    ("prefect_aws.credentials", "MinIOCredentials"): "blocks",
    ("prefect_aws.credentials", "ClientType"): "blocks.types.aws",
    ("prefect_aws.client_parameters", "AwsClientParameters"): "blocks.types.aws",
    ("prefect_aws.assume_role_parameters", "AssumeRoleParameters"): "blocks.types.aws",
    ("prefect_aws.s3", "S3Bucket"): "blocks",
    # Prefect's harness starts a throw-away Prefect server to hold the blocks; ours gives an
    # empty Blocks registry instead (harness.py, copied in as blocks_suite_harness).
    ("prefect.testing.utilities", "prefect_test_harness"): "blocks_suite_harness",
}

# mock.patch("prefect_aws.credentials.boto3.Session"): the module's boto3 is boto3 itself.
PATCH_TARGETS: dict[str, str] = {
    '"prefect_aws.credentials.boto3.': '"boto3.',
}


def rewrite_source(source: str) -> str:
    """``source`` with its prefect-aws imports of Blocks-provided names pointed at Blocks."""
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.ImportFrom) and node.module
                and node.module.split(".")[0] in ("prefect_aws", "prefect")):
            continue
        if node.end_lineno is None:
            continue
        by_module: dict[str, list[str]] = {}
        for alias in node.names:
            target = BLOCKS_NAMES.get((node.module, alias.name), node.module)
            spelled = alias.name + (f" as {alias.asname}" if alias.asname else "")
            by_module.setdefault(target, []).append(spelled)
        if list(by_module) == [node.module]:
            continue  # nothing here that Blocks provides: left as written
        indent = " " * node.col_offset
        text = "".join(f"{indent}from {module} import {', '.join(names)}\n"
                       for module, names in by_module.items())
        edits.append((node.lineno - 1, node.end_lineno, text))
    for start, end, text in sorted(edits, reverse=True):
        lines[start:end] = [text]
    result = "".join(lines)
    for old, new in PATCH_TARGETS.items():
        result = result.replace(old, new)
    return result


def rewrite_tree(src: Path, dst: Path) -> list[Path]:
    """Copy ``src`` to ``dst`` (replaced), rewriting every ``.py`` file; returns the changed
    files."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    changed = []
    for path in sorted(dst.rglob("*.py")):
        before = path.read_text()
        after = rewrite_source(before)
        if after != before:
            path.write_text(after)
            changed.append(path)
    return changed


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m tests.prefect.prefect_aws_suite.rewrite SRC_TESTS DST")
    for changed_path in rewrite_tree(Path(sys.argv[1]), Path(sys.argv[2])):
        print(changed_path)
