"""Terraform commands: ``blocks terraform install`` and ``blocks terraform docs``.

The provider package (``blocks_terraform``) is imported only when a command runs, so ``blocks``
itself never loads the Terraform framework.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

from blocks.cli import confirm, readonly
from blocks.cli.output import EXIT_OK, info, local_registry, print_json, wants_json
from blocks.errors import MissingExtraError
from blocks.private_files import private_dir
from blocks.settings import Settings

# Named here too so that `blocks terraform forget` needs no Terraform extra (runtime.py's name).
FINGERPRINT_KEY = "secret/terraform-fingerprint-key"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``blocks terraform`` and its sub-commands."""
    terraform = subparsers.add_parser("terraform", help="the Terraform provider")
    sub = terraform.add_subparsers(dest="terraform_command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser(
        "install",
        help="put the provider into a local filesystem mirror and write the CLI config",
        description="Install the provider so that `terraform init` finds it offline. Then "
        "`export TF_CLI_CONFIG_FILE=<cli config>` (printed) and run terraform as usual.",
    )
    p.add_argument("--mirror", type=Path, metavar="DIR",
                   help="filesystem mirror directory (default: $BLOCKS_HOME/terraform/plugins)")
    p.add_argument("--cli-config", type=Path, metavar="FILE",
                   help="where to write the Terraform CLI config "
                        "(default: $BLOCKS_HOME/terraform/terraform.rc)")
    p.add_argument("--print", dest="print_only", action="store_true",
                   help="print the CLI config instead of writing it")
    p.add_argument("--python", metavar="PATH",
                   help="Python that runs the provider (default: this one)")
    p.set_defaults(handler=cmd_install)

    p = sub.add_parser(
        "forget", help="delete the provider's fingerprint key (after the last terraform destroy)",
        description=f"Delete {FINGERPRINT_KEY}, the key the provider made for the fingerprints "
        "it keeps in state instead of secret values. The provider creates it on first use and "
        "never deletes it, since it cannot know whether another state still uses it. Run this "
        "after the last `terraform destroy` that used this registry.")
    confirm.yes_option(p)
    readonly.read_only(p)  # no registry: say so, create none
    p.set_defaults(handler=cmd_forget)

    p = sub.add_parser("docs", help="generate the provider's reference docs from its schemas")
    p.add_argument("--out", type=Path, default=Path("terraform/docs"), metavar="DIR",
                   help="output directory (default: terraform/docs)")
    p.set_defaults(handler=cmd_docs)


def _provider_module(name: str) -> ModuleType:
    """``blocks_terraform.<name>``, or a clear error when the ``terraform`` extra is missing."""
    try:
        importlib.import_module("tf")
        return importlib.import_module(f"blocks_terraform.{name}")
    except ImportError:
        raise MissingExtraError("tf", "terraform", "The Terraform provider") from None


def cmd_install(args: argparse.Namespace) -> int:
    """Install the launcher, warm the schema cache, write or print the CLI config."""
    install = _provider_module("install")
    schema_cache = _provider_module("schema_cache")

    home = Settings().home / "terraform"
    if args.mirror is None or (args.cli_config is None and not args.print_only):
        private_dir(home.parent)  # BLOCKS_HOME is 0700 whoever creates it first
    mirror = args.mirror or home / "plugins"
    config_path = None if args.print_only else (args.cli_config or home / "terraform.rc")
    done = install.install(mirror, python=args.python, cli_config_path=config_path)
    schema_cache.load()
    if wants_json(args):
        print_json({
            "mirror": str(done.mirror), "source": install.SOURCE,
            "version": install.PROVIDER_VERSION, "python": done.python,
            "cli_config_path": str(done.cli_config_path) if done.cli_config_path else None,
            "cli_config": done.cli_config,
        })
        return EXIT_OK
    if done.cli_config_path is None:
        sys.stdout.write(done.cli_config)
        return EXIT_OK
    info(f"installed {install.SOURCE} {install.PROVIDER_VERSION} into {done.mirror}")
    info(f"wrote the Terraform CLI config to {done.cli_config_path}; use it with:")
    print(f"export TF_CLI_CONFIG_FILE={done.cli_config_path}")
    return EXIT_OK


def cmd_forget(args: argparse.Namespace) -> int:
    """Delete the fingerprint key block, if there is one."""
    reg = local_registry(args)
    if not any(b.ref == FINGERPRINT_KEY for b in reg.list("secret")):
        if wants_json(args):
            print_json({"deleted": None})
        else:
            info(f"no {FINGERPRINT_KEY} in this registry: nothing to forget")
        return EXIT_OK
    confirm.confirm(args, f"delete {FINGERPRINT_KEY}",
                    "Fingerprints in any Terraform state that still manages generated or "
                    "write-only secrets of this registry stop matching (the next plan shows "
                    "them as changed outside Terraform).")
    reg.delete(FINGERPRINT_KEY, recovery_window=0)  # nothing left behind, not even to undo
    if wants_json(args):
        print_json({"deleted": FINGERPRINT_KEY})
    else:
        info(f"deleted {FINGERPRINT_KEY}; the provider makes a new one if it needs one again")
    return EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    """Write one Markdown page per resource and data source."""
    written = _provider_module("docs").generate(args.out)
    if wants_json(args):
        print_json({"written": [str(p) for p in written]})
    else:
        info(f"wrote {len(written)} pages under {args.out}")
    return EXIT_OK
