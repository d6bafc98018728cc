"""Raw Lambda events → typed models, at the edge."""
