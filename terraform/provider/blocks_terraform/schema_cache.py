"""A JSON cache of the block types' Terraform specs, so schema calls never import pydantic.

Terraform starts the provider about three times per command and asks each process for the
whole schema. Importing pydantic, pydantic-settings and every block type costs more than the
150 ms start-up budget, so the specs derived from the models are cached in
``~/.cache/blocks-terraform/`` (``XDG_CACHE_HOME`` honoured), keyed by this Python environment.

The cache records the source files it was built from (``blocks/core.py``, ``blocks/types/``,
plug-in modules, this package's mapping code) and the site-packages directories (installing a
plug-in distribution changes their modification time); any change to one of them rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 2


def cache_path() -> Path:
    """Where this Python environment's spec cache lives."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    env_id = hashlib.sha256(sys.prefix.encode()).hexdigest()[:16]
    return base / "blocks-terraform" / f"specs-{env_id}.json"


def _signature(paths: list[str]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append([path, st.st_mtime_ns, st.st_size])
        except OSError:
            out.append([path, None, None])
    return out


def _watched_dirs() -> list[str]:
    # Only where distributions get installed: sys.path also holds the working directory (for
    # ``python -m``), which Terraform writes to all the time.
    return sorted({
        p for p in sys.path
        if p.rstrip("/").endswith(("site-packages", "dist-packages")) and os.path.isdir(p)
    })


def load() -> dict[str, Any]:
    """The cached specs, rebuilt first when missing or stale.

    Returns:
        ``{"provider": [...], "types": {slug: {...}}}``.
    """
    path = cache_path()
    try:
        cached = json.loads(path.read_text())
        if (
            cached.get("format") == FORMAT
            and cached.get("signature") == _signature(cached.get("files", []))
            and cached.get("dirs") == _signature(_watched_dirs())
        ):
            return dict(cached)
    except (OSError, ValueError):
        pass
    specs = build()
    _write(path, specs)
    return specs


def build() -> dict[str, Any]:
    """Derive the specs from the pydantic models (slow: imports every block type)."""
    from blocks import catalog
    from blocks.settings import Settings
    from blocks_terraform import typed_schema

    files = {
        catalog.__file__,
        typed_schema.__file__,
        str(Path(catalog.__file__).with_name("core.py")),
        str(Path(catalog.__file__).with_name("_block_base.py")),  # the slug rules
        str(Path(catalog.__file__).with_name("settings.py")),
    }
    types_dir = Path(catalog.__file__).with_name("types")
    if types_dir.is_dir():
        files.add(str(types_dir))
        files.update(str(p) for p in types_dir.glob("*.py"))
    types: dict[str, Any] = {}
    for slug, cls in catalog.all_types().items():
        module = sys.modules.get(cls.__module__)
        if module is not None and getattr(module, "__file__", None):
            files.add(str(module.__file__))
        schema = cls.block_schema()
        by_alias = {(f.alias or n): n for n, f in cls.model_fields.items()}
        types[slug] = {
            "title": schema["title"],
            "description": schema["description"],
            "checksum": schema["checksum"],
            "secret_fields": schema["secret_fields"],
            "fields": typed_schema.field_specs(schema, by_alias, _factory_defaults(cls)),
        }
        for spec in types[slug]["fields"]:
            annotation = str(cls.model_fields[spec["field"]].annotation)
            spec["bytes"] = "SecretBytes" in annotation or "bytes" in annotation
    file_list = sorted(files)
    return {
        "format": FORMAT,
        "files": file_list,
        "signature": _signature(file_list),
        "dirs": _signature(_watched_dirs()),
        "provider": typed_schema.settings_specs(Settings.model_fields),
        "types": types,
    }


def _factory_defaults(cls: Any) -> dict[str, Any]:
    """JSON defaults of the fields whose default comes from a factory (nested models)."""
    from pydantic import BaseModel

    out: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        if info.default_factory is None:
            continue
        value = info.get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            out[name] = value.model_dump(mode="json")
        elif value is None or isinstance(value, str | int | float | bool | list | dict):
            out[name] = value
    return out


def _write(path: Path, specs: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".specs-")
        with os.fdopen(fd, "w") as fh:
            json.dump(specs, fh)
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache only costs speed
