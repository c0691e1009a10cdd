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
