# Import by pool name.
terraform import blocks_work_pool.etl etl
