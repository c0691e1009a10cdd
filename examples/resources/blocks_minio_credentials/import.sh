# Import by block name or minio-credentials/<name>.
terraform import blocks_minio_credentials.lake minio-lake
