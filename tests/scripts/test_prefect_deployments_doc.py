"""docs/prefect-deployments.md shows the files the schedule test deploys, verbatim, and its JSON
snippets parse: what a reader copies is what runs (tests/integrations/test_schedules.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "prefect-deployments.md"
EXAMPLE = ROOT / "examples" / "prefect-deployment"


def fenced(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_doc_shows_the_deployed_prefect_yaml_and_flow_verbatim() -> None:
    assert fenced("yaml") == [(EXAMPLE / "prefect.yaml").read_text()]
    assert fenced("python")[-1] == (EXAMPLE / "flow.py").read_text()
    deployment = yaml.safe_load((EXAMPLE / "prefect.yaml").read_text())["deployments"][0]
    assert deployment["schedules"][0]["cron"] == "0 6 * * *"
    assert deployment["work_pool"]["name"] == "etl"
    assert "{{" not in json.dumps(deployment)  # nothing Prefect would resolve at deploy time


def test_the_docs_json_snippets_parse() -> None:
    for snippet in fenced("json"):
        text = snippet.strip()
        json.loads(text if text.startswith("{") else "{" + text + "}")


def test_the_docs_settings_are_blocks_settings() -> None:
    from blocks.settings import Settings

    known = {f"BLOCKS_{name.upper()}" for name in Settings.model_fields}
    named = set(re.findall(r"\bBLOCKS_[A-Z_]+\b", DOC.read_text()))
    assert named <= known, named - known
