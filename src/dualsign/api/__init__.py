"""The HTTP edge: FastAPI routes, wire schemas, problem details."""
