"""Config as code: scripts and tasks as YAML documents (`etlx apply`, `etlx export`)."""
