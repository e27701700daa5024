"""Alembic migrations of the store (run with `imnm db upgrade`)."""
