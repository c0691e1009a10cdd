variable "name" {
  description = "Name of the database-credentials block (the password goes to secret/<name>-password): 1-54 lowercase letters, digits and dashes."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,52}[a-z0-9])?$", var.name))
    error_message = "The name must be 1-54 lowercase letters, digits and dashes, starting and ending with a letter or digit (the password block adds -password)."
  }
}

variable "driver" {
  description = "SQLAlchemy dialect and driver: postgresql+psycopg, postgresql+psycopg2, postgresql+asyncpg or postgresql+pg8000."
  type        = string
  default     = "postgresql+psycopg"

  validation {
    condition     = contains(["postgresql+psycopg", "postgresql+psycopg2", "postgresql+asyncpg", "postgresql+pg8000"], var.driver)
    error_message = "The driver must be one of postgresql+psycopg, postgresql+psycopg2, postgresql+asyncpg, postgresql+pg8000."
  }
}

variable "host" {
  description = "Server host name or address."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$", var.host))
    error_message = "The host must be a host name or an IP address (letters, digits, dots, dashes, colons)."
  }
}

variable "port" {
  description = "Server port."
  type        = number
  default     = 5432

  validation {
    condition     = var.port >= 1 && var.port <= 65535 && floor(var.port) == var.port
    error_message = "The port must be a whole number from 1 to 65535."
  }
}

variable "database" {
  description = "Database name."
  type        = string

  validation {
    condition     = length(var.database) > 0 && length(var.database) <= 63
    error_message = "The database must be 1-63 characters (PostgreSQL's identifier limit)."
  }
}

variable "username" {
  description = "Role to sign in as."
  type        = string

  validation {
    condition     = length(var.username) > 0 && length(var.username) <= 63
    error_message = "The username must be 1-63 characters (PostgreSQL's identifier limit)."
  }
}

variable "password_length" {
  description = "Length of the generated password (at least 16)."
  type        = number
  default     = 32

  validation {
    condition     = var.password_length >= 16 && floor(var.password_length) == var.password_length
    error_message = "The password_length must be a whole number >= 16."
  }
}

variable "password_special" {
  description = "Also use the characters !#%*+-=?@^_ in the password (letters and digits otherwise)."
  type        = bool
  default     = false
}

variable "password_keepers" {
  description = "Arbitrary values; changing any generates a new password (and copies it into the credentials)."
  type        = map(string)
  default     = {}
}
