"""The only reader and writer of the stage's tables and artifact objects: versions of every kind, their S3 key
layout, the query index, lineage, launch plans and subscriptions, start claims, uploads, collection."""
