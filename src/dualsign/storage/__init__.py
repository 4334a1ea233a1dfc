"""Storage adapters: SQLAlchemy repositories and the job table (SQLite by default, PostgreSQL by URL), and
blob stores (files or S3 with Object Lock, encrypted at rest)."""
