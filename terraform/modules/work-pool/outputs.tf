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
  description = "The pool's base job template (JSON), the type's default unless given."
  value       = blocks_work_pool.this.base_job_template
}

output "queue_ids" {
  description = "Ids (<pool>/<queue>) of the queues the module created, by name."
  value       = { for name, q in blocks_work_queue.this : name => q.id }
}
