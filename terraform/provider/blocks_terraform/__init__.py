"""Terraform provider for Blocks, written with the ``tf`` package.

Run by Terraform through the launcher ``blocks terraform install`` puts into a filesystem
mirror (``python -m blocks_terraform``). Nothing is imported here, so that start-up stays fast.
"""

__version__ = "0.1.0"
