"""Read queries for the API, admin and dashboard; every per-user query is filtered by owner."""
