"""Anonymous liveness check: answers without touching the database or Airflow."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from etl_express import __version__

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str


@router.get("/health", response_model=Health, summary="Liveness check (no authentication)")
def health() -> Health:
    return Health(status="ok", version=__version__)
