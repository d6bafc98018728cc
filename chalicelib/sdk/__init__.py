"""The authoring SDK: artifacts, tasks, workflows, launch plans and triggers."""
