# Import by block name or github-credentials/<name>.
terraform import blocks_github_credentials.ci ci
