"""Ephemeral resources (Terraform >= 1.10): read a block when Terraform needs it, never stored.

``base.py`` holds what they share (name, version or stage, errors as diagnostics);
``secret.py`` is ``ephemeral "blocks_secret"``; ``typed.py`` generates one per typed block type
(``blocks_aws_credentials``, ``blocks_database_credentials``, ...). The protocol calls that
serve them are in :mod:`blocks_terraform.ephemeral`.
"""
