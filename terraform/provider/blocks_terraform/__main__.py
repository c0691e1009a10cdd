"""``python -m blocks_terraform``: serve the provider to Terraform."""

from blocks.audit_actor import set_via
from blocks_terraform.provider import BlocksProvider
from blocks_terraform.serving import serve

if __name__ == "__main__":
    set_via("terraform")  # the audit trail names the provider as the way in
    serve(BlocksProvider())
