"""Workflow graphs → Amazon States Language. Pure functions: no AWS calls."""

from chalicelib.compile.asl import compile_workflow

__all__ = ["compile_workflow"]
