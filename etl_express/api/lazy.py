"""An ASGI app that builds the real ETL-Express app on its first request.

Airflow imports every plugin in every component (scheduler, dag-processor, each task process),
but only the api-server ever serves HTTP. Building the FastAPI app and importing Airflow's
security module costs seconds, so the plugin hands Airflow this placeholder instead; it costs
nothing to import and creates the app once, in the api-server, when a request arrives.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Key under which the request scope keeps the app that mounted us (Airflow's root app): the
# mounted FastAPI app overwrites scope["app"] with itself, and in-process calls to Airflow's
# REST API need the root.
ROOT_APP_SCOPE_KEY = "etlx.root_app"


class LazyApp:
    """ASGI callable that imports ``module:factory`` and calls it once, on first use."""

    def __init__(self, target: str) -> None:
        module, _, factory = target.partition(":")
        if not module or not factory:
            raise ValueError(f"target must look like 'package.module:factory', got {target!r}")
        self._module = module
        self._factory = factory
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()

    def load(self) -> ASGIApp:
        """The real app, built on the first call."""
        if self._app is None:
            with self._lock:
                if self._app is None:
                    factory = getattr(importlib.import_module(self._module), self._factory)
                    self._app = factory()
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and ROOT_APP_SCOPE_KEY not in scope:
            scope[ROOT_APP_SCOPE_KEY] = scope.get("app")
        await self.load()(scope, receive, send)

    def __repr__(self) -> str:
        return f"{self._module}:{self._factory}"
