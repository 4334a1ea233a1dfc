"""Running durable jobs: the engine that carries due jobs to worker processes (RQ on Redis)."""
