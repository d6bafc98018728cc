"""Artifact events → run requests (decide, pure) → StartExecution (start)."""
