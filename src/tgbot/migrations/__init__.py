"""Alembic migrations, shipped inside the package (a container has no repo checkout)."""
