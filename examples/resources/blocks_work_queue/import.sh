# Import by <pool>/<queue>.
terraform import blocks_work_queue.critical etl/critical
