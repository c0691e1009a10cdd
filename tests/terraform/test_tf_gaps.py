"""The gaps of the bare ``tf`` package that ``blocks_terraform.framework`` fills, reproduced
against the real Terraform binary with a minimal provider written the plain ``tf`` way.

If one of these starts failing after a ``tf`` upgrade, the gap is gone upstream and the matching
part of the framework layer can go too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.terraform.conftest import TERRAFORM

pytestmark = pytest.mark.terraform

RAW_PROVIDER = '''
import json, sys
from tf import runner, schema, types
from tf.blocks import SetNestedBlock
from tf.iface import Provider, Resource


def log(kind, value):
    with open(__file__ + ".log", "a") as fh:
        fh.write(json.dumps([kind, repr(value)]) + "\\n")


class Thing(Resource):
    def __init__(self, provider):
        self.provider = provider

    @classmethod
    def get_name(cls):
        return "thing"

    @classmethod
    def get_schema(cls):  # no explicit version, as in tf's examples
        return schema.Schema(attributes=[
            schema.Attribute("name", types.String(), required=True),
            schema.Attribute("value", types.String(), optional=True),
            schema.Attribute("version", types.Number(), computed=True),
        ], block_types=[SetNestedBlock("opt", schema.Block(
            attributes=[schema.Attribute("n", types.Number(), optional=True)]))])

    def validate(self, diags, type_name, config):
        log("validate", config)
        super().validate(diags, type_name, config)

    def plan(self, ctx, current, planned):
        log("plan", sorted(ctx.changed_fields))
        if ctx.changed_fields:
            planned["version"] = types.Unknown
        return planned

    def create(self, ctx, planned):
        return {**planned, "version": 1}

    def read(self, ctx, current):
        return current

    def update(self, ctx, current, planned):
        return {**planned, "version": current["version"] + 1}

    def delete(self, ctx, current):
        return None


class Raw(Provider):
    def get_model_prefix(self): return "raw_"
    def full_name(self): return "registry.terraform.io/gaps/raw"
    def get_provider_schema(self, diags): return schema.Schema(attributes=[])
    def validate_config(self, diags, config): pass
    def configure_provider(self, diags, config): pass
    def get_data_sources(self): return []
    def get_resources(self): return [Thing]


runner.run_provider(Raw(), sys.argv)
'''

CONFIG = '''
terraform {
  required_providers { raw = { source = "gaps/raw" } }
}
variable "n" { default = 1 }
resource "raw_thing" "a" {
  name = "a"
  opt { n = var.n }
}
resource "raw_thing" "b" {
  name  = "b"
  value = raw_thing.a.version
}
'''


def test_bare_tf_gaps_are_still_there(tmp_path: Path) -> None:
    if not TERRAFORM.exists():
        pytest.skip("terraform binary not installed")
    script = tmp_path / "raw_provider.py"
    script.write_text(RAW_PROVIDER)
    plugin = tmp_path / "mirror/registry.terraform.io/gaps/raw/0.0.1/linux_amd64"
    plugin.mkdir(parents=True)
    launcher = plugin / "terraform-provider-raw_v0.0.1"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n')
    launcher.chmod(0o755)
    rc = tmp_path / "rc"
    rc.write_text("provider_installation {\n"
                  f'  filesystem_mirror {{ path = "{tmp_path}/mirror" }}\n}}\n')
    work = tmp_path / "work"
    work.mkdir()
    (work / "main.tf").write_text(CONFIG)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "TF_CLI_CONFIG_FILE": str(rc),
           "CHECKPOINT_DISABLE": "1"}

    def tf(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(TERRAFORM), *args, "-no-color"], cwd=work, env=env,
                              capture_output=True, text=True, timeout=120)

    assert tf("init").returncode == 0
    assert tf("apply", "-auto-approve").returncode == 0
    calls = [json.loads(line) for line in Path(f"{script}.log").read_text().splitlines()]
    # plan() is not called on create: the first apply logs no "plan" at all.
    assert not [c for c in calls if c[0] == "plan"]
    # validate() receives Unknown values, even inside nested blocks.
    assert any("Unknown" in c[1] for c in calls if c[0] == "validate")

    plan = tf("plan")
    # No explicit schema version: a warning on every plan.
    assert "Using default upgrade" in plan.stdout + plan.stderr

    changed = tf("apply", "-auto-approve", "-var", "n=2")
    # A change inside a nested block is not in changed_fields, so the plan kept the old
    # version and apply returned a new one.
    assert changed.returncode == 1
    assert "Provider produced inconsistent result after apply" in changed.stderr
    log = [json.loads(x) for x in Path(f"{script}.log").read_text().splitlines()]
    assert ["plan", "[]"] in log


def test_tf_protocol_code_still_lacks_write_only_attributes() -> None:
    """``tf``'s tfplugin6 code predates write-only attributes (``blocks_terraform.protocol``
    declares the fields): no ``Schema.Attribute.write_only``, no client capabilities."""
    from tf.gen import tfplugin_pb2 as pb

    from blocks_terraform.protocol import WRITE_ONLY_TRUE, _messages, write_only_allowed

    assert "write_only" not in pb.Schema.Attribute.DESCRIPTOR.fields_by_name
    assert "client_capabilities" not in pb.ValidateResourceConfig.Request.DESCRIPTOR.fields_by_name
    assert not hasattr(pb, "ClientCapabilities")
    # Our declarations use the protocol's field numbers, and survive a round trip through
    # tf's classes as unknown fields.
    extra = _messages()["AttributeExtra"].DESCRIPTOR.fields_by_name["write_only"]
    assert extra.number == 11
    assert _messages()["AttributeExtra"](write_only=True).SerializeToString() == WRITE_ONLY_TRUE
    request = _messages()["ValidateResourceConfigRequestExtra"]()
    request.client_capabilities.write_only_attributes_allowed = True
    through_tf = pb.ValidateResourceConfig.Request.FromString(request.SerializeToString())
    assert write_only_allowed(through_tf)
    assert not write_only_allowed(pb.ValidateResourceConfig.Request(type_name="x"))


def test_tf_passes_refined_unknowns_on_as_raw_extension_values() -> None:
    """Terraform >= 1.6 sends ``"v${unknown}"`` as msgpack extension 12 (an unknown with
    refinements); ``tf`` decodes only extension 0 as Unknown, so ``is_known`` must catch it."""
    import msgpack
    from tf.utils import _msgpack_ext_hook

    from blocks_terraform.framework import is_known

    refined = _msgpack_ext_hook(12, b"\x81\x01\xa1v")  # prefix "v"
    assert isinstance(refined, msgpack.ExtType)
    assert not is_known(refined) and not is_known({"a": [refined]})
    assert is_known({"a": ["v1"]})


def test_tf_still_stops_its_server_on_stop_provider() -> None:
    """``tf`` shuts its gRPC server down on ``StopProvider`` (a cancel request), which turns
    Ctrl-C into "Plugin did not respond"; ``interrupt.ShutdownInterceptor`` stops only on
    go-plugin's ``Shutdown``."""
    from tf import runner

    from blocks_terraform.interrupt import ShutdownInterceptor

    stops: list[tuple[str, float]] = []

    class Server:
        def __init__(self, name: str) -> None:
            self.name = name

        def stop(self, grace: float) -> None:
            stops.append((self.name, grace))

    class Call:
        def __init__(self, method: str) -> None:
            self.method = method

    theirs, ours = runner._ShutdownInterceptor(), ShutdownInterceptor()
    theirs.server, ours.server = Server("tf"), Server("ours")
    for interceptor in (theirs, ours):
        interceptor.intercept_service(lambda call: None, Call("/tfplugin6.Provider/StopProvider"))
    assert stops == [("tf", 0)]
    ours.intercept_service(lambda call: None, Call("/plugin.GRPCController/Shutdown"))
    assert stops == [("tf", 0), ("ours", 0)]
