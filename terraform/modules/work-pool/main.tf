data "blocks_default_job_template" "this" {
  type = var.type
}

locals {
  # The common job variables, under the property names of each type's template
  # (variables.properties.<name>); ecs takes cpu and memory as numbers.
  env = length(var.env) > 0 ? var.env : null
  job_variables = {
    process = { env = local.env }
    docker  = { env = local.env, image = var.image, mem_limit = var.memory }
    ecs = {
      env    = local.env
      image  = var.image
      cpu    = var.cpu == null ? null : try(tonumber(var.cpu), var.cpu)
      memory = var.memory == null ? null : try(tonumber(var.memory), var.memory)
    }
    kubernetes = {
      env            = local.env
      image          = var.image
      namespace      = var.namespace
      cpu_request    = var.cpu
      memory_request = var.memory
    }
  }
  inputs_of = {
    process    = []
    docker     = ["image", "memory"]
    ecs        = ["image", "cpu", "memory"]
    kubernetes = ["image", "namespace", "cpu", "memory"]
  }
  given = { image = var.image, namespace = var.namespace, cpu = var.cpu, memory = var.memory }

  # Queues declared here with their priorities. Prefect keeps one queue per priority and a
  # queue given a taken one moves the holder down (so does Blocks): two declared queues with
  # one priority would move each other on every apply, and are refused at plan instead.
  priorities = merge(
    { for n, q in var.queues : n => q.priority },
    var.default_queue_priority == null ? {} : { default = var.default_queue_priority },
  )
  tied = { for p in distinct(values(local.priorities)) : p => sort([for n, q in local.priorities : n if q == p]) }

  # Terraform 1.0 has no preconditions and no validation across variables: a failed check
  # calls file() with its message, which Terraform then shows in the error.
  problems = concat(
    [for k, v in local.given : "${k} is not a job variable of ${var.type} pools (it is for: ${join(", ", [for t, ks in local.inputs_of : t if contains(ks, k)])}); remove it" if v != null && !contains(local.inputs_of[var.type], k)],
    [for q in keys(var.queue_settings) : "queue_settings.${q} names no queue of var.queues; add the queue or remove the setting" if !contains(keys(var.queues), q)],
    var.base_job_template != null && length(keys(local.job_variables_set)) > 0 ? ["give base_job_template or the job-variable inputs (image, namespace, cpu, memory, env), not both"] : [],
    [for p, names in local.tied : "queues ${join(" and ", names)} both have priority ${p}; Prefect keeps one queue per priority: give each its own" if length(names) > 1],
  )
  checked = length(local.problems) == 0 ? "" : file("ERROR: ${join("; ", local.problems)}")

  job_variables_set = merge([for k, v in local.job_variables[var.type] : { (k) = v } if v != null]...)
  default_template  = jsondecode(data.blocks_default_job_template.this.base_job_template)
  properties        = local.default_template.variables.properties
  customised = merge(local.default_template, {
    variables = merge(local.default_template.variables, {
      properties = merge(local.properties, merge(
        [for k, v in local.job_variables_set : { (k) = merge(local.properties[k], { default = v }) }]...
      ))
    })
  })
  base_job_template = var.base_job_template != null ? var.base_job_template : (
    length(keys(local.job_variables_set)) > 0 ? jsonencode(local.customised) : null
  )
}

resource "blocks_work_pool" "this" {
  name              = var.name
  type              = var.type
  description       = var.description
  concurrency_limit = var.concurrency_limit
  paused            = var.paused
  base_job_template = local.checked == "" ? local.base_job_template : null
}

resource "blocks_work_queue" "this" {
  for_each = var.queues
  # The default queue takes its priority first: a queue created at the default queue's old
  # priority would otherwise move it while it is being set.
  depends_on = [blocks_work_queue.default]

  pool              = blocks_work_pool.this.id
  name              = each.key
  priority          = each.value.priority
  concurrency_limit = each.value.concurrency_limit
  description       = try(var.queue_settings[each.key].description, null)
  paused            = try(var.queue_settings[each.key].paused, null)
}

# Declared only when its priority is given; otherwise the pool's default queue is left alone
# (blocks_work_queue adopts a pool's default queue and never deletes it).
resource "blocks_work_queue" "default" {
  count = var.default_queue_priority == null ? 0 : 1

  pool     = blocks_work_pool.this.id
  name     = "default"
  priority = var.default_queue_priority
}
