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
  description = "Base job template as JSON ({job_configuration, variables}); null for the type's default template with the job-variable inputs (image, namespace, cpu, memory, env) as defaults. Exclusive with those inputs."
  type        = string
  default     = null

  validation {
    condition     = var.base_job_template == null ? true : can(jsondecode(var.base_job_template).job_configuration)
    error_message = "The base_job_template must be a JSON object with job_configuration and variables."
  }
}

variable "default_queue_priority" {
  description = "Priority of the pool's default queue (1 is highest); null leaves it alone (1 for a new pool, moved down when another queue takes its priority, as in Prefect). Must differ from every priority in queues."
  type        = number
  default     = null

  validation {
    condition     = var.default_queue_priority == null ? true : var.default_queue_priority >= 1
    error_message = "The default_queue_priority must be >= 1 (or null to leave it alone)."
  }
}

variable "queues" {
  description = "Queues to create besides the pool's default queue, by name: priority (1 is highest; one queue per priority, as Prefect keeps them) and concurrency_limit (null for none)."
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

variable "image" {
  description = "Container image of the flow runs (docker, ecs and kubernetes pools), e.g. ghcr.io/acme/flows:1.4; null for the type's default."
  type        = string
  default     = null

  validation {
    condition     = var.image == null ? true : can(regex("^[a-z0-9][A-Za-z0-9._/:@-]*$", var.image))
    error_message = "The image must be an image reference such as ghcr.io/acme/flows:1.4 (no spaces)."
  }
}

variable "namespace" {
  description = "Kubernetes namespace of the flow-run jobs (kubernetes pools only); null for the template's default."
  type        = string
  default     = null

  validation {
    condition     = var.namespace == null ? true : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "The namespace must be a Kubernetes namespace name: 1-63 lowercase letters, digits and dashes."
  }
}

variable "cpu" {
  description = "CPU per flow run: a Kubernetes request such as 500m or 2 (kubernetes pools), or CPU units such as 1024 (ecs pools); null for the template's default."
  type        = string
  default     = null

  validation {
    condition     = var.cpu == null ? true : can(regex("^[0-9]+(\\.[0-9]+)?m?$", var.cpu))
    error_message = "The cpu must be a number, optionally with the m (millicores) suffix, e.g. 500m, 2 or 1024."
  }
}

variable "memory" {
  description = "Memory per flow run: a Kubernetes request such as 512Mi (kubernetes pools), MiB such as 2048 (ecs pools), or a Docker limit such as 512m (docker pools); null for the template's default."
  type        = string
  default     = null

  validation {
    condition     = var.memory == null ? true : can(regex("^[0-9]+([KMGTkmgt]i?|[bB])?$", var.memory))
    error_message = "The memory must be a number with an optional unit, e.g. 512Mi, 2048 or 512m."
  }
}

variable "env" {
  description = "Environment variables of the flow runs (every type). A value may name a block through its placeholder, e.g. \"{{ blocks.secret.db-password }}\" (a block resource's placeholder attribute or a module's *_placeholder output): it is resolved when a run starts and never stored in the pool."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.env) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k))])
    error_message = "Environment variable names must be letters, digits and underscores, not starting with a digit."
  }

  validation {
    condition     = alltrue([for v in values(var.env) : length(regexall("{{", v)) == length(regexall("{{ *blocks\\.[a-z0-9-]+\\.[a-z0-9-]+ *}}", v))])
    error_message = "A {{ ... }} in an env value must be a block placeholder {{ blocks.<slug>.<name> }}, e.g. {{ blocks.secret.db-password }}."
  }
}

variable "queue_settings" {
  description = "Description and paused state of queues, by queue name (names of queues). Queues not listed get no description and are not paused."
  type = map(object({
    description = string
    paused      = bool
  }))
  default = {}
}
