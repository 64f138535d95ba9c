"""Alembic environment: the URL comes from the Config built by routing.db.alembic_config."""

from alembic import context
from sqlalchemy import create_engine

import routing.models  # noqa: F401  (registers every table on Base.metadata)
from routing.db import Base

config = context.config


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no sqlalchemy.url: build the Alembic config with routing.db.alembic_config")
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
