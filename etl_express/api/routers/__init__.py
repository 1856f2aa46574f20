"""One router per resource of the REST API under /etl-express/api/v1."""
