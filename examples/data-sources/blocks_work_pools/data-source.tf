# Every kubernetes work pool, by name.
data "blocks_work_pools" "k8s" {
  type = "kubernetes"
}

# The same "backfill" queue in each of them.
resource "blocks_work_queue" "backfill" {
  for_each = data.blocks_work_pools.k8s.pools
  pool     = each.value.id
  name     = "backfill"
  priority = 10
  paused   = true
}
