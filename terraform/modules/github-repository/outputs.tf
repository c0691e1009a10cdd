output "repository_id" {
  description = "Id (github-repository/<name>) of the repository block."
  value       = blocks_github_repository.this.id
}

output "repository_placeholder" {
  description = "Placeholder naming the repository block in work-pool templates and env."
  value       = blocks_github_repository.this.placeholder
}

output "credentials_id" {
  description = "Id (github-credentials/<name>) of the credentials block."
  value       = blocks_github_credentials.this.id
}
