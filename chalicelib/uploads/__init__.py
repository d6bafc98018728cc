"""S3 uploads as an artifact source.

A file put at

    uploads/<artifact>/<key1>=<value1>/.../[time_partition=<ISO 8601>/]<file>.{parquet,csv,json}

of the stage bucket becomes a version of <artifact>, if the artifact is declared with
`Artifact(..., accepts_uploads=True)` in a registered workflow file. Anything else is quarantined.

  keys.py      the key layout: parse (pure) and build
  content.py   check a file's content and turn it into the stored data object (pandas only for csv/parquet)
  (chalicelib.store.uploads keeps each object's processing state and quarantine record; chalicelib.ops.upload
  is the client side, for people and scripts)
  handler.py   the S3-event Lambda: decide, then register the version or quarantine the object
"""
