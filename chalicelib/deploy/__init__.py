"""Deploying a stage to AWS: the infra stack, the tasks layer, `.chalice/config.json` for the stage, `chalice
deploy`, the stream mapping's settings, and registration. `sequence.Stage` runs them in order; each step is
idempotent. Nothing here is imported by the Lambda functions."""
