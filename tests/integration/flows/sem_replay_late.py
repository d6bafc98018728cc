"""A launch plan added after the versions existed: the backfill case."""

from chalicelib import LaunchPlan, OnArtifact

from sem_replay import Readings, check_reading

late_lp = LaunchPlan.create("rp_late", check_reading, trigger=OnArtifact(trigger_on=Readings, inputs={"value": Readings}))
