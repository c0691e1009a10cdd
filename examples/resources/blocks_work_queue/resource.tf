resource "blocks_work_pool" "etl" {
  name = "etl"
  type = "process"
}

resource "blocks_work_queue" "critical" {
  pool              = blocks_work_pool.etl.id # the id: replacing the pool replaces the queue
  name              = "critical"
  priority          = 1
  concurrency_limit = 5
}
