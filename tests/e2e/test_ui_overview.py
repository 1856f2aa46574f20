"""Issue 2: log in to the Airflow UI and see the ETL-Express page with data from our API."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from ui_session import logged_in

API = "/etl-express/api/v1"


@pytest.fixture(scope="module")
def script_name(airflow_server: Any) -> str:
    """A script saved through the API, so the page has an audit event to show."""
    name = f"ui_overview_{secrets.token_hex(3)}"
    with airflow_server.client() as client:
        response = client.post(
            f"{API}/scripts",
            json={
                "kind": "upload",
                "name": name,
                "spec": {"destination": "local_file", "options": {"directory": "/tmp/etlx-ui"}},
            },
        )
    assert response.status_code == 201, response.text
    return name


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_page_shows_data_from_the_api(
    airflow_server: Any, script_name: str, test_output_dir: Path, scheme: str
) -> None:
    with httpx.Client(
        base_url=airflow_server.url, headers={"Authorization": f"Bearer {airflow_server.token()}"}
    ) as client:
        overview = client.get(f"{API}/overview").json()
        plugins = client.get("/api/v2/plugins").json()["plugins"]
    assert any(app["url_route"] == "etl-express" for p in plugins for app in p["react_apps"])

    with logged_in(
        airflow_server.url, airflow_server.username, airflow_server.password, color_scheme=scheme
    ) as session:
        page = session.page
        page.goto(airflow_server.url + "/")
        # The page is in Airflow's navigation.
        page.get_by_role("link", name="ETL-Express").first.click()
        page.get_by_test_id("etlx-overview").wait_for(timeout=60_000)

        expect(page.get_by_text(f"script {script_name}")).to_be_visible()
        expect(page.get_by_test_id("batches-ready_for_review")).to_have_text(
            str(overview["batches"]["by_state"]["ready_for_review"])
        )
        expect(page.get_by_text("Recent runs")).to_be_visible()
        expect(page.get_by_text("ETL tasks", exact=True).first).to_be_visible()
        page.screenshot(path=str(test_output_dir / f"ui_overview_{scheme}.png"))
        assert session.errors == []
