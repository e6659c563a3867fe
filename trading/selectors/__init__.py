"""Read queries for the API, admin and dashboard; every per-user query is filtered by the user's role on each
account (``trading.permissions``): what the user may not view is not there."""
