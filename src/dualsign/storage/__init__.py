"""Storage adapters: SQLAlchemy repositories (SQLite by default, PostgreSQL by URL) and blob stores."""
