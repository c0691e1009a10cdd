resource "blocks_work_pool" "this" {
  name              = var.name
  type              = var.type
  description       = var.description
  concurrency_limit = var.concurrency_limit
  paused            = var.paused
  base_job_template = var.base_job_template
}

resource "blocks_work_queue" "this" {
  for_each = var.queues

  pool              = blocks_work_pool.this.name
  name              = each.key
  priority          = each.value.priority
  concurrency_limit = each.value.concurrency_limit
}
