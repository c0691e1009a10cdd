data "blocks_work_pool" "etl" {
  name = "etl"
}

output "etl_queues" {
  value = data.blocks_work_pool.etl.queues
}
