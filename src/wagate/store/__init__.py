"""Persistence: tables, migrations, the database handle and repositories.

Repositories are plain functions over a SQLAlchemy Core ``Connection``; the
``Database`` runs them (in a group-committing writer thread on SQLite, in an asyncpg
transaction on PostgreSQL). All dialect differences live in this package.
"""
