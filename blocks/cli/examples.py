"""The examples at the end of each command's ``--help``.

Keyed by command path. A command registered with its own ``epilog=`` keeps it; a command with
neither gets no examples, which ``tests/cli/test_help.py`` reports, so add one here (or pass
``epilog="examples:\\n  blocks ..."`` to ``add_parser``) with every new command.
"""

from __future__ import annotations

EXAMPLES: dict[str, list[str]] = {
    "audit": ["blocks audit ls --since 30d", "blocks audit who-read secret/warehouse --since 30d"],
    "audit ls": ["blocks audit ls", "blocks audit ls --ref secret/warehouse --action read",
                 "blocks audit ls --actor ci-reader --since 30d --json",
                 "blocks audit ls --denied --since 7d"],
    "audit export": ["blocks audit export --jsonl > audit.jsonl",
                     "blocks audit export --jsonl --since 1d | my-siem-shipper"],
    "audit who-read": ["blocks audit who-read secret/warehouse --since 30d"],
    "audit verify": ["blocks audit verify", "blocks audit verify --json"],
    "audit prune": ["blocks audit prune --before 2026-01-01", "blocks audit prune --before 400d"],
    "audit hash": ["blocks audit hash < token-id.txt   # then: blocks audit ls --actor <hash>"],
    "": [
        "blocks init                                  # create the registry in ~/.blocks",
        "echo '{\"value\": \"s3cr3t\"}' | blocks save secret/api-token --file -",
        "blocks inspect secret/api-token",
        "blocks ls --json",
    ],
    "init": [
        "blocks init",
        "blocks init --key-provider aws-kms:alias/blocks",
        "blocks init --key-provider vault-transit:transit/blocks",
    ],
    "types": ["blocks types", "blocks types s3-bucket", "blocks types s3-bucket --json"],
    "ls": ["blocks ls", "blocks ls aws-credentials", "blocks ls --json", "blocks ls --deleted"],
    "inspect": [
        "blocks inspect s3-bucket/data-lake",
        "blocks inspect secret/api-token --version 1 --show-secrets",
    ],
    "save": [
        "blocks save aws-credentials/prod --file prod.json",
        "echo '{\"value\": \"rotated\"}' | blocks save secret/api-token --file - --overwrite",
        "blocks save secret/api-token --file new.json --expected-version 2",
    ],
    "rm": [
        "blocks rm secret/api-token                  # recoverable for 7 days",
        "blocks rm secret/api-token --undo           # bring it back (same id, history kept)",
        "blocks rm secret/api-token --now --yes      # shred at once, no prompt",
        "blocks rm secret/api-token --recovery-window 30d",
        "blocks rm --list-deleted",
    ],
    "history": ["blocks history secret/api-token", "blocks history secret/api-token --json"],
    "rollback": ["blocks rollback secret/api-token --version 1"],
    "mv": [
        "blocks mv secret/db-pass db-password          # same id, history and references kept",
        "blocks mv secret/db-pass db-password --expected-version 3",
    ],
    "verify": ["blocks verify", "blocks verify --json   # every problem, for scripts"],
    "completion": [
        "source <(blocks completion bash)                  # in ~/.bashrc",
        "blocks completion zsh > \"${fpath[1]}/_blocks\"    # then restart zsh",
        "blocks completion fish > ~/.config/fish/completions/blocks.fish",
    ],
    "keys": ["blocks keys status", "blocks keys rotate && blocks keys rewrap"],
    "keys status": ["blocks keys status", "blocks keys status --json"],
    "keys rotate": ["blocks keys rotate"],
    "keys rewrap": ["blocks keys rewrap", "blocks keys rewrap --term 1 --batch-size 500"],
    "keys retire": ["blocks keys retire 1", "blocks keys retire 1 --yes   # no prompt"],
    "keys rotate-master": [
        "blocks keys rotate-master --to aws-kms:alias/blocks",
        "blocks keys rotate-master --to vault-transit:transit/blocks",
    ],
    "keys purge": [
        "blocks keys purge secret/api-token --version 1",
        "blocks keys purge secret/api-token --version 1 --yes   # no prompt",
    ],
    "pools": ["blocks pools ls", "blocks pools create k8s-etl --type kubernetes"],
    "pools ls": ["blocks pools ls", "blocks pools ls --json"],
    "pools inspect": ["blocks pools inspect k8s-etl", "blocks pools inspect k8s-etl --version 1"],
    "pools create": [
        "blocks pools create k8s-etl --type kubernetes --concurrency-limit 4",
        "blocks pools create local --type process --base-job-template template.json",
    ],
    "pools update": [
        "blocks pools update k8s-etl --concurrency-limit 8",
        "blocks pools update k8s-etl --no-concurrency-limit --expected-version 2",
    ],
    "pools pause": ["blocks pools pause k8s-etl"],
    "pools resume": ["blocks pools resume k8s-etl"],
    "pools rm": ["blocks pools rm k8s-etl"],
    "pools mv": ["blocks pools mv k8s-etl k8s-batch   # queues and history follow"],
    "pools history": ["blocks pools history k8s-etl"],
    "pools default-template": ["blocks pools default-template kubernetes > template.json"],
    "pools render": [
        "blocks pools render k8s-etl --var image=acme/etl:1.4",
        "blocks pools render k8s-etl --queue critical --values vars.json --show-secrets",
    ],
    "pools queues": ["blocks pools queues ls k8s-etl"],
    "pools queues ls": ["blocks pools queues ls k8s-etl"],
    "pools queues inspect": ["blocks pools queues inspect k8s-etl critical"],
    "pools queues create": ["blocks pools queues create k8s-etl critical --priority 1"],
    "pools queues update": ["blocks pools queues update k8s-etl critical --concurrency-limit 2"],
    "pools queues pause": ["blocks pools queues pause k8s-etl critical"],
    "pools queues resume": ["blocks pools queues resume k8s-etl critical"],
    "pools queues rm": ["blocks pools queues rm k8s-etl critical"],
    "pools publish": [
        "blocks pools publish k8s-etl --dry-run     # what would change on the Prefect server",
        "blocks pools publish --all --prune",
    ],
    "pools diff": ["blocks pools diff k8s-etl", "blocks pools diff --all --detailed-exitcode"],
    "mirror": [
        "blocks mirror secret/db-pass --to prefect   # then {{ prefect.blocks.secret.db-pass }}",
        "blocks mirror status",
        "blocks mirror secret/db-pass --rm",
    ],
    "prefect": ["blocks prefect deploy-rotation --pool ops --cron '*/15 * * * *'"],
    "prefect deploy-gc": ["blocks prefect deploy-gc --pool ops --cron '17 3 * * *'   # daily"],
    "prefect deploy-rotation": [
        "blocks prefect deploy-rotation --pool ops --cron '*/15 * * * *'",
        "blocks prefect deploy-rotation --pool ops --cron '0 * * * *' --env BLOCKS_HOME=/srv/b",
    ],
    "import": ["blocks import prefect --dry-run"],
    "import prefect": [
        "blocks import prefect --dry-run             # the plan, nothing written",
        "blocks import prefect --type aws-credentials --name prod",
        "blocks import prefect --pools",
    ],
    "rotate": [
        "blocks rotate secret/api-token --now",
        "blocks rotate --due                         # from cron: everything that is due",
        "blocks rotate --cancel database-credentials/app",
    ],
    "rotation": ["blocks rotation ls"],
    "rotation ls": ["blocks rotation ls", "blocks rotation ls --json"],
    "rotation set": [
        "blocks rotation set secret/api-token --rotator generated --every 30d --option length=40",
        "blocks rotation set database-credentials/app --rotator postgres-password --cron "
        "'0 3 * * 0' --grace 1d --option admin_block=database-credentials/pg-admin",
    ],
    "rotation show": ["blocks rotation show secret/api-token"],
    "rotation unset": ["blocks rotation unset secret/api-token"],
    "terraform": ["blocks terraform install", "blocks terraform docs --out terraform/docs"],
    "terraform install": [
        "blocks terraform install && export TF_CLI_CONFIG_FILE=~/.blocks/terraform/terraform.rc",
        "blocks terraform install --print",
    ],
    "terraform docs": ["blocks terraform docs --out terraform/docs"],
    "terraform forget": ["terraform destroy && blocks terraform forget --yes"],
    "server": ["blocks server init                          # the first admin token, once"],
    "tokens": ["blocks tokens ls", "blocks tokens create etl-worker --policy etl-read --ttl 30d"],
    "tokens create": [
        "blocks tokens create etl-worker --policy etl-read --ttl 30d --owner etl-team",
        "blocks tokens create deployer --policy app-write --policy app-read --json",
    ],
    "tokens ls": ["blocks tokens ls", "blocks tokens ls --json"],
    "tokens revoke": ["blocks tokens revoke etl-worker", "blocks tokens revoke etl-worker --yes"],
    "policies": ["blocks policies ls", "blocks policies put etl-read --file etl-read.json"],
    "policies put": [
        "blocks policies put etl-read --file etl-read.json",
        "blocks policies put etl-read --file -   # the document on stdin",
    ],
    "policies get": ["blocks policies get etl-read"],
    "policies ls": ["blocks policies ls", "blocks policies ls --json"],
    "policies rm": ["blocks policies rm etl-read", "blocks policies rm etl-read --yes"],
}


def examples_for(path: tuple[str, ...]) -> str | None:
    """The ``examples:`` epilog of a command, or ``None`` when it has none."""
    lines = EXAMPLES.get(" ".join(path))
    if not lines:
        return None
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)
