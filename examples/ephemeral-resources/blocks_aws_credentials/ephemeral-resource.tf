# Terraform >= 1.10: the stored keys configure the AWS provider without entering plan or state:
#
#   provider "aws" {
#     region     = ephemeral.blocks_aws_credentials.deploy.region_name
#     access_key = ephemeral.blocks_aws_credentials.deploy.aws_access_key_id
#     secret_key = ephemeral.blocks_aws_credentials.deploy.aws_secret_access_key
#   }
ephemeral "blocks_aws_credentials" "deploy" {
  name = "deploy"
}

# The version before the last rotation, while holders of the old key are moved over.
ephemeral "blocks_aws_credentials" "deploy_previous" {
  name  = "deploy"
  stage = "previous"
}
