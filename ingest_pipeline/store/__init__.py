"""The app database: SQLAlchemy models, Alembic migrations, and repositories (no Dagster)."""
