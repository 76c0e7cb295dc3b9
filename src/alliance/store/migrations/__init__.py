"""Alembic migrations of the clinic database (package data: env.py and versions/)."""
