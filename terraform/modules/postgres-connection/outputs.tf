output "credentials_id" {
  description = "Id (database-credentials/<name>) of the credentials block."
  value       = blocks_database_credentials.this.id
}

output "credentials_placeholder" {
  description = "Placeholder naming the credentials block in work-pool templates and env."
  value       = blocks_database_credentials.this.placeholder
}

output "password_secret_id" {
  description = "Id (secret/<name>-password) of the secret block holding the generated password."
  value       = blocks_secret.password.id
}

output "password_placeholder" {
  description = "Placeholder of the password alone ({{ blocks.secret.<name>-password }}), e.g. for a container's env."
  value       = blocks_secret.password.placeholder
}

output "password_fingerprint" {
  description = "Keyed fingerprint of the generated password (never the password itself)."
  value       = blocks_secret.password.fingerprint
}
