"""Persistence: SQLModel tables, engine setup for SQLite and PostgreSQL, migrations, queries."""
