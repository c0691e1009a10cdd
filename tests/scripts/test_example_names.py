"""No two runnable Terraform examples create the same object in one registry (issue 23: two
examples both made a pool named ``etl``, so applying the second into the registry of the first
failed with "already exists").

Each configuration is read for what it creates: ``resource "blocks_<type>"`` blocks with a
literal ``name``, and module calls of our modules (whose objects take the call's ``name``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The configurations a user applies as they are: the Terraform journey and each module's example.
CONFIGS = [ROOT / "examples" / "terraform",
           *sorted((ROOT / "terraform" / "modules").glob("*/examples/*"))]
RESOURCE = re.compile(r'^resource "blocks_(\w+)" "\w+" \{\n(?P<body>(?:  .*\n|\n)*?)\}', re.M)
MODULE = re.compile(r'^module "\w+" \{\n(?P<body>(?:  .*\n|\n)*?)\}', re.M)
NAME = re.compile(r'^  name\s*=\s*"([^"]+)"', re.M)
SOURCE = re.compile(r'^  source\s*=\s*"([^"]+)"', re.M)


def _created(config: Path) -> set[tuple[str, str]]:
    made: set[tuple[str, str]] = set()
    for tf_file in sorted(config.glob("*.tf")):
        text = tf_file.read_text()
        for found in RESOURCE.finditer(text):
            name = NAME.search(found.group("body"))
            if name:
                made.add((found.group(1), name.group(1)))
        for found in MODULE.finditer(text):
            body = found.group("body")
            source, name = SOURCE.search(body), NAME.search(body)
            if source and name:
                module = (config / source.group(1)).resolve().name
                made.add((f"module {module}", name.group(1)))
    return made


def test_the_parser_sees_resources_and_module_calls(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "blocks_work_pool" "etl" {\n  name = "etl"\n  type = "process"\n}\n\n'
        'module "pool" {\n  source = "../work-pool"\n\n  name = "etl"\n}\n')
    assert _created(tmp_path) == {("work_pool", "etl"), ("module work-pool", "etl")}


def test_no_two_examples_create_the_same_object() -> None:
    owners: dict[tuple[str, str], list[str]] = defaultdict(list)
    for config in CONFIGS:
        for made in _created(config):
            owners[made].append(str(config.relative_to(ROOT)))
    # A pool made by the work-pool module and by a blocks_work_pool resource is the same object.
    merged: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (kind, name), where in owners.items():
        kind = "work_pool" if kind == "module work-pool" else kind
        kind = "github_repository" if kind == "module github-repository" else kind
        merged[(kind, name)].extend(where)
    clashes = {made: where for made, where in merged.items() if len(where) > 1}
    assert not clashes, f"examples that collide in one registry: {clashes}"
    assert len(CONFIGS) >= 5 and merged
