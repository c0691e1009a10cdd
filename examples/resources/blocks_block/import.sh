# Import by <type-slug>/<name>.
terraform import blocks_block.github_bot github-credentials/bot
