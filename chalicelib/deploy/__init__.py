"""Deploying a stage to AWS as one CloudFormation stack: the template and packages are built under build/
(`build`, `template`), the stack is created or updated through a change set (`stack`), then workflows are
registered (`registration`). `sequence.Deployment` runs them in order. Nothing here is imported by the Lambda
functions, except `guard`, which app.py imports to stop plain `chalice deploy`."""
