"""Operator commands against a stage (run on a laptop): find the stage, register, launch by hand, replay, the
dead-letter queue, uploads from outside."""
