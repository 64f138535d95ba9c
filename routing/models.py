"""Imports every concept's models so that Base.metadata knows all tables (for Alembic)."""
