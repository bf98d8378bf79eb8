"""Alembic migrations, shipped inside the package; run with ``changan db upgrade``."""
