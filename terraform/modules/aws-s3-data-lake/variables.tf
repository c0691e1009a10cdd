variable "name" {
  description = "Name of the aws-credentials block: 1-63 lowercase letters, digits and dashes."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-63 lowercase letters, digits and dashes, starting and ending with a letter or digit."
  }
}

variable "region" {
  description = "AWS region of the buckets, e.g. eu-west-1; null for boto3's default (AWS_REGION...)."
  type        = string
  default     = null

  validation {
    condition     = var.region == null ? true : can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$", var.region))
    error_message = "The region must look like eu-west-1 (or be null for boto3's default)."
  }
}

variable "access_key_id" {
  description = "Access key id (AKIA... or ASIA...), with secret_access_key; null to use a role or boto3's default chain."
  type        = string
  default     = null

  validation {
    condition     = var.access_key_id == null ? true : can(regex("^(AKIA|ASIA)[A-Z0-9]{12,124}$", var.access_key_id))
    error_message = "The access_key_id must start with AKIA or ASIA followed by upper-case letters and digits."
  }
}

variable "secret_access_key" {
  description = "Secret access key of access_key_id. Held in Terraform state (sensitive); null with no access key."
  type        = string
  default     = null
  sensitive   = true
}

variable "role_arn" {
  description = "IAM role to assume (arn:aws:iam::<account>:role/<name>); null for none. Works alone or on top of access keys."
  type        = string
  default     = null

  validation {
    condition     = var.role_arn == null ? true : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", var.role_arn))
    error_message = "The role_arn must look like arn:aws:iam::123456789012:role/name."
  }
}

variable "role_session_name" {
  description = "Session name for the assumed role (2-64 of letters, digits and +=,.@_-); null for the default (blocks)."
  type        = string
  default     = null

  validation {
    condition     = var.role_session_name == null ? true : can(regex("^[A-Za-z0-9+=,.@_-]{2,64}$", var.role_session_name))
    error_message = "The role_session_name must be 2-64 letters, digits and +=,.@_- characters."
  }
}

variable "external_id" {
  description = "External id the role's trust policy requires; null for none."
  type        = string
  default     = null
}

variable "buckets" {
  description = "S3 bucket blocks to create, by block name: bucket_name (the S3 bucket) and folder (key prefix; \"\" for the bucket's root)."
  type = map(object({
    bucket_name = string
    folder      = string
  }))

  validation {
    condition     = length(var.buckets) > 0
    error_message = "Give at least one bucket."
  }

  validation {
    condition     = alltrue([for n in keys(var.buckets) : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", n))])
    error_message = "Bucket block names (the keys of buckets) must be 1-63 lowercase letters, digits and dashes."
  }

  validation {
    # S3's rule for new buckets is 3-63 lowercase letters, digits, dots and dashes; older
    # us-east-1 buckets also have capitals and "_" (the provider warns about those).
    condition     = alltrue([for b in values(var.buckets) : can(regex("^[A-Za-z0-9._-]{3,255}$", b.bucket_name))])
    error_message = "Every bucket_name must be an S3 bucket name: 3-63 lowercase letters, digits, dots and dashes (older buckets: 3-255 letters, digits, dots, dashes and underscores)."
  }
}
