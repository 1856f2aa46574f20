"""Dependencies shared by the routers: the database engine, opened lazily and kept."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request

EngineFactory = Callable[[], sa.Engine]


def _default_factory() -> sa.Engine:
    from etl_express.stores.db import make_engine

    return make_engine()


class EngineHolder:
    """Creates the engine on the first request that needs it, then reuses it.

    Importing the app, or serving the health check and the UI bundle, never touches the
    database.
    """

    def __init__(self, factory: EngineFactory | None = None) -> None:
        self._factory = factory or _default_factory
        self._engine: sa.Engine | None = None
        self._lock = threading.Lock()

    def get(self) -> sa.Engine:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._factory()
        return self._engine

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def get_engine(request: Request) -> sa.Engine:
    holder: EngineHolder = request.app.state.engine_holder
    return holder.get()


EngineDep = Annotated[sa.Engine, Depends(get_engine)]


def get_connection(engine: EngineDep) -> Iterator[sa.Connection]:
    """A read connection for the duration of one request."""
    with engine.connect() as conn:
        yield conn


ConnectionDep = Annotated[sa.Connection, Depends(get_connection)]
