"""Issue 3: create a script of each kind and a task in the UI; the DAG shows up in Airflow."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect
from ui_session import Session, logged_in

QUERY = "SELECT id, full_name, email, phone, city, comment, created_at FROM customers"


def _new_script(page: Page, kind: str, name: str, fields: dict[str, str]) -> None:
    page.get_by_test_id("new-script").click()
    page.get_by_test_id("script-kind").select_option(kind)
    page.locator("[data-field=name]").fill(name)
    for key, value in fields.items():
        page.locator(f"[data-field={key}]").fill(value)
    page.get_by_test_id("save-script").click()
    # Saved: the page shows the script with its version history.
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Version history")).to_be_visible()
    page.get_by_role("button", name="← Scripts").click()


def _wait_for_dag_in_list(
    session: Session, airflow_server: Any, dag_id: str, timeout: float
) -> float:
    page = session.page
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        page.goto(f"{session.base_url}/dags")
        try:
            page.get_by_text(dag_id, exact=True).first.wait_for(timeout=5_000)
            return time.monotonic() - start
        except Exception:  # not parsed yet: reload the list
            time.sleep(2)
    with airflow_server.client() as client:
        known = client.get(f"/api/v2/dags/{dag_id}").status_code
        slug = dag_id.removeprefix("etlx__")
        task = client.get(f"/etl-express/api/v1/tasks/{slug}").json()
    raise AssertionError(
        f"{dag_id} did not appear in Airflow's DAG list within {timeout} s "
        f"(GET /api/v2/dags -> {known}, task dag_error={task.get('dag_error')!r})\n"
        f"dag-processor log:\n{airflow_server.log('dag-processor')[-3000:]}"
    )


def test_scripts_of_each_kind_and_a_task_created_in_the_ui(
    airflow_server: Any, test_output_dir: Path
) -> None:
    s = secrets.token_hex(3)
    names = {
        kind: f"ui_{kind}_{s}"
        for kind in ("extraction", "field_rules", "transformation", "anonymization", "upload")
    }
    with logged_in(airflow_server.url, airflow_server.username, airflow_server.password) as session:
        page = session.page
        session.open_etl_express()
        page.get_by_role("tab", name="Scripts").click()

        # A refused save shows the error under its field and saves nothing.
        page.get_by_test_id("new-script").click()
        page.locator("[data-field=name]").fill(f"ui_bad_{s}")
        page.locator("[data-field=query]").fill("DELETE FROM customers")
        page.get_by_test_id("save-script").click()
        expect(page.get_by_text("query must be a SELECT or WITH query")).to_be_visible()
        page.screenshot(path=str(test_output_dir / "ui_script_inline_error.png"))
        page.get_by_role("button", name="Cancel").click()

        _new_script(
            page,
            "extraction",
            names["extraction"],
            {
                "query": QUERY,
            },
        )
        _new_script(page, "field_rules", names["field_rules"], {})
        _new_script(
            page,
            "transformation",
            names["transformation"],
            {
                "inputs": json.dumps([{"name": "customers", "script": names["extraction"]}]),
                "sql": QUERY,
            },
        )
        _new_script(page, "anonymization", names["anonymization"], {})
        _new_script(page, "upload", names["upload"], {})

        page.get_by_role("tab", name="ETL tasks").click()
        page.get_by_test_id("new-task").click()
        task_name = f"UI task {s}"
        page.locator("[data-field=name]").fill(task_name)
        page.locator("[data-field=owner]").fill("admin")
        page.locator("[data-field=schedule]").fill("")
        page.get_by_test_id("pick-extraction-0").select_option(names["extraction"])
        page.get_by_test_id("input-extraction-0").fill("customers")
        for role in ("field_rules", "transformation", "anonymization", "upload"):
            page.get_by_test_id(f"pick-{role}").select_option(names[role])
        # One extraction, a row-wise SELECT, no dedupe: the task can stream.
        page.get_by_test_id("task-execution").select_option("streamed")
        page.get_by_test_id("save-task").click()
        expect(page.get_by_role("heading", name=task_name)).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Execution: streamed")).to_be_visible()
        dag_id = f"etlx__ui_task_{s}"
        expect(page.get_by_role("link", name=dag_id)).to_be_visible()
        page.screenshot(path=str(test_output_dir / "ui_task_created.png"))

        seconds = _wait_for_dag_in_list(session, airflow_server, dag_id, 120)
        print(f"{dag_id} in Airflow's DAG list {seconds:.1f} s after saving in the UI")
        page.screenshot(path=str(test_output_dir / "ui_dag_in_airflow_list.png"))

        # Trigger from our page: the run goes through Airflow and is listed with the task.
        session.open_etl_express()
        page.get_by_role("tab", name="ETL tasks").click()
        page.get_by_text(task_name).click()
        page.get_by_test_id("trigger-task").click()
        expect(page.get_by_text("started.")).to_be_visible(timeout=60_000)
        expect(page.get_by_test_id("airflow-paused")).to_have_text("unpaused in Airflow")
        page.screenshot(path=str(test_output_dir / "ui_task_triggered.png"))
        assert session.errors == []
