# Terraform >= 1.8. The placeholder of a block managed outside this configuration, for a work
# pool's job variables; resolved when a flow run starts. For a block declared in this
# configuration use its `placeholder` attribute instead, so Terraform creates it first.
resource "blocks_work_pool" "etl" {
  name = "etl"
  type = "process"
  base_job_template = jsonencode({
    job_configuration = { env = "{{ env }}" }
    variables = {
      properties = {
        env = {
          type = "object"
          default = {
            DB_PASSWORD = provider::blocks::placeholder("secret", "db-pass")
          }
        }
      }
    }
  })
}

output "db_password_placeholder" {
  value = provider::blocks::placeholder("secret", "db-pass") # "{{ blocks.secret.db-pass }}"
}
