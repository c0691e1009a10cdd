# Import by block name or s3-bucket/<name>.
terraform import blocks_s3_bucket.lake data-lake
