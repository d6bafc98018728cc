"""The task-runner Lambda: runs one Task state (a task, the Resolve step, or a workflow-level output)."""
