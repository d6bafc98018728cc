"""Workflow graphs → Amazon States Language. Pure functions: no AWS calls."""

from chalicelib.compile.asl import compile_workflow, state_machine_name

__all__ = ["compile_workflow", "state_machine_name"]
