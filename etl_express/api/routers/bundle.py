"""Serves the React page's ES module to Airflow's UI, which imports it by URL."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, Response

router = APIRouter(tags=["ui"])

BUNDLE_NAME = "etl-express.js"


def bundle_source() -> bytes:
    return files("etl_express.ui").joinpath("static", BUNDLE_NAME).read_bytes()


@router.get(
    "/" + BUNDLE_NAME,
    summary="The ETL-Express page as an ES module for Airflow's React plugin host",
    response_class=Response,
    responses={200: {"content": {"text/javascript": {}}}},
)
def bundle() -> Response:
    return Response(
        content=bundle_source(),
        media_type="text/javascript; charset=utf-8",
        # The file changes with the package version only; revalidate so upgrades show at once.
        headers={"Cache-Control": "no-cache"},
    )
