"""A run of the demo task in Airflow: its page shows one line of rows per stage as it goes.

The run goes through Airflow's scheduler (LocalExecutor), each stage a task instance of its
own; the page refreshes itself while the run is going, so the lines appear without a click.
What the page shows is what the API gives for the run.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from api_helpers import API, demo_scripts, demo_task, wait_for
from playwright.sync_api import expect
from ui_session import logged_in

from etl_express.runtime.demo import CUSTOMERS

STAGES = ["extract", "field_rules", "transform", "anonymize", "load_outbox"]


def _start_demo_run(airflow_server: Any, suffix: str) -> tuple[str, str]:
    """The demo scripts and task saved through the API, its run triggered: (slug, run id)."""
    with airflow_server.client() as client:
        for body in demo_scripts(suffix):
            saved = client.post(f"{API}/scripts", json=body)
            assert saved.status_code == 201, saved.text
        created = client.post(f"{API}/tasks", json=demo_task(suffix))
        assert created.status_code == 201, created.text
        slug = created.json()["slug"]
        wait_for(
            lambda: client.get(f"/api/v2/dags/etlx__{slug}").status_code == 200,
            180,
            "the demo task's DAG appears in Airflow",
        )
        triggered = client.post(f"{API}/tasks/{slug}/trigger", json={})
        assert triggered.status_code == 201, triggered.text
        return slug, triggered.json()["dag_run_id"]


def test_the_task_page_shows_rows_per_stage_of_a_run(
    airflow_server: Any, test_output_dir: Path
) -> None:
    suffix = secrets.token_hex(3)
    slug, run_id = _start_demo_run(airflow_server, suffix)
    with logged_in(airflow_server.url, airflow_server.username, airflow_server.password) as session:
        page = session.page
        session.open_etl_express()
        page.get_by_role("tab", name="ETL tasks").click()
        page.get_by_text(f"Demo customers {suffix}").click()
        # No click on Refresh: the page reloads the runs while one is going.
        last = page.get_by_test_id("stage-rows-load_outbox")
        state = page.get_by_test_id(f"run-state-{run_id}")
        try:
            expect(last).to_contain_text("1/1 chunks", timeout=600_000)
            # The anonymize chunk moves load_outbox's count when its rows are in the hidden
            # table; the run succeeds only when load_outbox has published the batch after it.
            expect(state).to_have_text("success", timeout=300_000)
        except AssertionError:
            page.screenshot(path=str(test_output_dir / "ui_run_progress_failed.png"))
            raise AssertionError(
                "the run's load_outbox line or its success never came:\n"
                f"{page.inner_text('body')[-3000:]}\n"
                f"scheduler log:\n{airflow_server.log('scheduler')[-3000:]}"
            ) from None
        # The batch the run published shows up without a click on the batches' Refresh.
        expect(page.get_by_text("ready_for_review")).to_be_visible(timeout=30_000)
        page.screenshot(path=str(test_output_dir / "ui_run_progress.png"))
        shown = {stage: page.get_by_test_id(f"stage-rows-{stage}").inner_text() for stage in STAGES}
        assert session.errors == []

    with airflow_server.client() as client:
        runs = client.get(f"{API}/tasks/{slug}/runs").json()["runs"]
    (run,) = [r for r in runs if r["dag_run_id"] == run_id]
    stats = run["stats"]
    assert run["state"] == "success", run
    rules, shaped, hidden, loaded = (stats[s] for s in STAGES[1:])
    assert rules["chunks"] == rules["chunks_expected"] == stats["extract"]["chunks"] == 1
    assert rules["rows_in"] == CUSTOMERS and rules["rows_quarantined"] == 0
    assert rules["inputs"] == {"customers": {k: v for k, v in rules.items() if k != "inputs"}}
    assert shaped["rows_in"] == rules["rows_out"] and shaped["chunks"] == 1
    assert hidden["chunks"] == hidden["chunks_expected"] == 1
    assert hidden["rows_in"] == shaped["rows_out"] and hidden["gate_findings"] == 0
    assert loaded["rows_in"] == hidden["rows_out"] == loaded["rows_out"] > 0
    # The page says what the API says.
    assert shown["field_rules"] == (
        f"field_rules: 1/1 chunks · {CUSTOMERS:,}→{rules['rows_out']:,} rows"
    )
    # the demo's transformation is row-wise: it ran inside the anonymize chunk, counted per chunk
    assert shaped["chunks_expected"] == 1
    assert shown["transform"] == (
        f"transform: 1/1 chunks · {shaped['rows_in']:,}→{shaped['rows_out']:,} rows"
    )
    assert shown["anonymize"].startswith("anonymize: 1/1 chunks · ")
    assert shown["load_outbox"] == (
        f"load_outbox: 1/1 chunks · {loaded['rows_in']:,}→{loaded['rows_out']:,} rows"
    )
