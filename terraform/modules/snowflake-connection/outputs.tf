output "connector_id" {
  description = "Id (snowflake-connector/<name>) of the connector block."
  value       = blocks_snowflake_connector.this.id
}

output "connector_placeholder" {
  description = "Placeholder naming the connector block in work-pool templates and env."
  value       = blocks_snowflake_connector.this.placeholder
}

output "credentials_id" {
  description = "Id (snowflake-credentials/<name>) of the credentials block."
  value       = blocks_snowflake_credentials.this.id
}
