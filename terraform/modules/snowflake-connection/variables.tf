variable "name" {
  description = "Name of both blocks (snowflake-credentials/<name> and snowflake-connector/<name>): 1-63 lowercase letters, digits and dashes."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-63 lowercase letters, digits and dashes, starting and ending with a letter or digit."
  }
}

variable "account" {
  description = "Snowflake account identifier, e.g. nh12345.us-east-2.aws or myorg-myaccount (without .snowflakecomputing.com)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]*$", var.account)) && !can(regex("snowflakecomputing\\.com", var.account))
    error_message = "The account must be an account identifier such as nh12345.us-east-2.aws, without .snowflakecomputing.com."
  }
}

variable "user" {
  description = "Snowflake user to sign in as."
  type        = string

  validation {
    condition     = length(var.user) > 0
    error_message = "The user must not be empty."
  }
}

variable "password" {
  description = "Password of user. Give it or private_key, not both. Held in Terraform state (sensitive)."
  type        = string
  default     = null
  sensitive   = true
}

variable "private_key" {
  description = "PEM RSA private key (the PEM text or its base64) for key-pair authentication. Give it or password, not both. Held in Terraform state (sensitive)."
  type        = string
  default     = null
  sensitive   = true
}

variable "private_key_passphrase" {
  description = "Passphrase of an encrypted private_key; null for an unencrypted key."
  type        = string
  default     = null
  sensitive   = true
}

variable "role" {
  description = "Default role; null for the user's default role."
  type        = string
  default     = null
}

variable "database" {
  description = "Database the connector uses."
  type        = string

  validation {
    condition     = length(var.database) > 0
    error_message = "The database must not be empty."
  }
}

variable "warehouse" {
  description = "Warehouse the connector runs queries on."
  type        = string

  validation {
    condition     = length(var.warehouse) > 0
    error_message = "The warehouse must not be empty."
  }
}

variable "schema" {
  description = "Schema the connector uses."
  type        = string
  default     = "public"

  validation {
    condition     = length(var.schema) > 0
    error_message = "The schema must not be empty."
  }
}
