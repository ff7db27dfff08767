"""scry's engine: catalog, extraction, embedding, vector index and search. Never imports Qt."""
