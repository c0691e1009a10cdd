# Import by <type-slug>/<name>.
terraform import blocks_block.webhook github-credentials/bot
