"""``python -m blocks_terraform``: serve the provider to Terraform."""

from blocks.audit_actor import set_via
from blocks_terraform.framework import serve
from blocks_terraform.provider import BlocksProvider

if __name__ == "__main__":
    set_via("terraform")  # the audit trail names the provider as the way in
    serve(BlocksProvider())
