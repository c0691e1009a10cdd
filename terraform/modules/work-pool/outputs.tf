output "id" {
  description = "Id of the work pool (its name), for blocks_work_queue.pool elsewhere."
  value       = blocks_work_pool.this.id
}

output "name" {
  description = "Name of the work pool."
  value       = blocks_work_pool.this.name
}

output "type" {
  description = "Worker type of the pool."
  value       = blocks_work_pool.this.type
}

output "version" {
  description = "Current stored version of the pool."
  value       = blocks_work_pool.this.version
}

output "base_job_template" {
  description = "The pool's base job template (JSON): the given one, or the type's default with the job-variable inputs as defaults."
  value       = blocks_work_pool.this.base_job_template
}

output "default_queue_id" {
  description = "Id (<pool>/default) of the queue every pool has."
  value       = "${blocks_work_pool.this.name}/default"
}

output "queue_ids" {
  description = "Ids (<pool>/<queue>) of the queues the module created, by name."
  value       = { for name, q in blocks_work_queue.this : name => q.id }
}
