# Import by block name or aws-credentials/<name>.
terraform import blocks_aws_credentials.etl etl
