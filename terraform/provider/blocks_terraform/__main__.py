"""``python -m blocks_terraform``: serve the provider to Terraform."""

from blocks_terraform.framework import serve
from blocks_terraform.provider import BlocksProvider

if __name__ == "__main__":
    serve(BlocksProvider())
