data "blocks_default_job_template" "k8s" {
  type = "kubernetes"
}

output "k8s_variables" {
  value = keys(jsondecode(data.blocks_default_job_template.k8s.variables).properties)
}
