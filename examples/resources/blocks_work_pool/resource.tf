# base_job_template omitted: the type's default template, with no diff later.
resource "blocks_work_pool" "etl" {
  name              = "etl"
  type              = "kubernetes"
  description       = "Nightly ETL on the analytics cluster"
  concurrency_limit = 10
}

# Or start from the default template and change it.
data "blocks_default_job_template" "docker" {
  type = "docker"
}

resource "blocks_work_pool" "docker" {
  name = "docker-runs"
  type = "docker"
  base_job_template = jsonencode(merge(jsondecode(data.blocks_default_job_template.docker.base_job_template), {
    variables = merge(jsondecode(data.blocks_default_job_template.docker.variables), {
      description = "Docker runs with our base image"
    })
  }))
  paused = true
}

# A template that names a block: the placeholder attribute makes Terraform create the
# secret before the pool (the value itself never enters the template or state).
resource "blocks_secret" "db_password" {
  name = "db-password"
  generate {}
}

data "blocks_default_job_template" "process" {
  type = "process"
}

locals {
  process = jsondecode(data.blocks_default_job_template.process.base_job_template)
}

resource "blocks_work_pool" "local" {
  name = "local"
  type = "process"
  base_job_template = jsonencode({
    job_configuration = local.process.job_configuration
    variables = merge(local.process.variables, {
      properties = merge(local.process.variables.properties, {
        env = merge(local.process.variables.properties.env, {
          default = { DB_PASSWORD = blocks_secret.db_password.placeholder }
        })
      })
    })
  })
}
