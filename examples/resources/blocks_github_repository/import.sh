# Import by block name or github-repository/<name>.
terraform import blocks_github_repository.flows flows
