"""What the Airflow plugin registers; plugins/etl_express_plugin.py only wraps these.

Everything here must stay cheap to import (no FastAPI, no SQLAlchemy, no Airflow modules).
"""

from __future__ import annotations

from typing import Any, Final

from etl_express.api.lazy import LazyApp

URL_PREFIX: Final = "/etl-express"
API_PREFIX: Final = "/api/v1"
BUNDLE_PATH: Final = "/ui/etl-express.js"
PLUGIN_NAME: Final = "ETL-Express"

FASTAPI_APP: Final[dict[str, Any]] = {
    "app": LazyApp("etl_express.api.app:create_app"),
    "url_prefix": URL_PREFIX,
    "name": PLUGIN_NAME,
}

# The UI imports bundle_url as an ES module and renders globalThis[name]; url_route is the
# page's path under the UI (/plugin/etl-express).
REACT_APP: Final[dict[str, Any]] = {
    "name": PLUGIN_NAME,
    "bundle_url": URL_PREFIX + BUNDLE_PATH,
    "destination": "nav",
    "url_route": "etl-express",
    "category": None,
    "nav_top_level": True,
}
