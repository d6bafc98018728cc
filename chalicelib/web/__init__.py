"""The lineage web page: a static page (`static/`) and the JSON API it reads, served by the Chalice app."""
