variable "name" {
  description = "Name of the work pool: 1-63 lowercase letters, digits and dashes."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-63 lowercase letters, digits and dashes, starting and ending with a letter or digit."
  }
}

variable "type" {
  description = "Worker type of the pool: process, docker, ecs or kubernetes."
  type        = string
  default     = "process"

  validation {
    condition     = contains(["process", "docker", "ecs", "kubernetes"], var.type)
    error_message = "The type must be one of process, docker, ecs, kubernetes."
  }
}

variable "description" {
  description = "What the pool is for."
  type        = string
  default     = ""
}

variable "concurrency_limit" {
  description = "Most flow runs in flight in the pool; null for no limit."
  type        = number
  default     = null

  validation {
    condition     = var.concurrency_limit == null ? true : var.concurrency_limit >= 0
    error_message = "The concurrency_limit must be >= 0 (or null for no limit)."
  }
}

variable "paused" {
  description = "Create the pool paused (it hands out no runs)."
  type        = bool
  default     = false
}

variable "base_job_template" {
  description = "Base job template as JSON ({job_configuration, variables}); null for the type's default template."
  type        = string
  default     = null

  validation {
    condition     = var.base_job_template == null ? true : can(jsondecode(var.base_job_template).job_configuration)
    error_message = "The base_job_template must be a JSON object with job_configuration and variables."
  }
}

variable "queues" {
  description = "Queues to create besides the pool's default queue, by name: priority (1 is highest) and concurrency_limit (null for none)."
  type = map(object({
    priority          = number
    concurrency_limit = number
  }))
  default = {}

  validation {
    condition     = alltrue([for q in values(var.queues) : q.priority >= 1 && (q.concurrency_limit == null ? true : q.concurrency_limit >= 0)])
    error_message = "Every queue needs priority >= 1 and a concurrency_limit that is null or >= 0."
  }

  validation {
    condition     = alltrue([for n in keys(var.queues) : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", n)) && n != "default"])
    error_message = "Queue names must be 1-63 lowercase letters, digits and dashes, and not \"default\" (every pool has it)."
  }
}
