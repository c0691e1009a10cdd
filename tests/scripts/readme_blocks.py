"""The fenced code blocks of a Markdown file, for tests that run documentation as pasted.

A block's language is its fence's info string (```python, ```sh, ```hcl, ```text). A block
that cannot run as pasted is preceded by ``<!-- readme-test: skip: REASON -->``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SKIP = re.compile(r"^<!-- readme-test: skip: (?P<reason>.*\S) -->$")


@dataclass
class CodeBlock:
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    section: str  # the closest heading above
    skip: str | None  # the reason, when marked


def code_blocks(path: Path) -> list[CodeBlock]:
    """Every fenced block of ``path``, in order."""
    blocks: list[CodeBlock] = []
    section, previous = "", ""
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        if line.startswith("```"):
            start, lang = i + 1, line[3:].strip()
            body: list[str] = []
            i += 1
            while not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            marked = SKIP.match(previous)
            blocks.append(CodeBlock(start, lang, "\n".join(body) + "\n", section,
                                    marked.group("reason") if marked else None))
        if line.strip():
            previous = line.strip()
        i += 1
    return blocks
