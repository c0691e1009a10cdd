variable "name" {
  description = "Name of both blocks (github-credentials/<name> and github-repository/<name>): 1-63 lowercase letters, digits and dashes."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-63 lowercase letters, digits and dashes, starting and ending with a letter or digit."
  }
}

variable "repository_url" {
  description = "Repository to clone: https://github.com/<owner>/<repo>.git, git@github.com:<owner>/<repo>.git or file://<path>."
  type        = string

  validation {
    condition     = can(regex("^(https://[^/\\s]+/[^/\\s]+/[^/\\s]+|git@[^:\\s]+:[^/\\s]+/[^/\\s]+|file://\\S+)$", var.repository_url))
    error_message = "The repository_url must be https://<host>/<owner>/<repo>(.git), git@<host>:<owner>/<repo>(.git) or file://<path>."
  }
}

variable "reference" {
  description = "Branch or tag to check out; null for the repository's default branch."
  type        = string
  default     = null

  validation {
    condition     = var.reference == null ? true : can(regex("^[^\\s~^:?*\\[\\\\]+$", var.reference))
    error_message = "The reference must be a branch or tag name (no spaces or ~^:?*[\\ characters)."
  }
}

variable "token" {
  description = "GitHub token for private repositories over https; null for public ones. Held in Terraform state (sensitive)."
  type        = string
  default     = null
  sensitive   = true
}
