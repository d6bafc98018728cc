"""Running things: the task runner (inside Lambda) and the local cloud on moto."""
