"""The `doc_md` of a task's DAG: what it does, when, and with which script versions."""

from __future__ import annotations

from typing import Any

_ROLE_LABEL = {
    "extraction": "Extraction",
    "field_rules": "Field rules",
    "transformation": "Transformation",
    "anonymization": "Anonymization",
    "upload": "Upload",
}


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def doc_md(bundle: dict[str, Any]) -> str:
    task = bundle["task"]
    schedule = task["schedule"] or "manual (trigger from ETL-Express or Airflow)"
    review = (
        "the approver must differ from the last editor"
        if task["approver_must_differ"]
        else "any reviewer may approve"
    )
    lines = [
        f"# {_cell(task['name'])}",
        "",
        task["description"] or "_No description._",
        "",
        f"- **ETL-Express task:** `{task['slug']}` (revision {task['revision']}), "
        f"owner {_cell(task['owner'])}",
        f"- **Schedule:** {_cell(schedule)}",
        f"- **Outbox retention:** {task['retention_days']} days unapproved; review: {review}",
    ]
    if task["quasi_identifiers"]:
        lines.append(f"- **Quasi-identifiers:** {', '.join(task['quasi_identifiers'])}")
    if task["params"]:
        shown = ", ".join(f"`{k}` = `{_cell(v)}`" for k, v in task["params"].items())
        lines.append(f"- **Params (defaults, overridable per run):** {shown}")
    lines += ["", "| Stage | Script | Version | Input | Spec sha256 |", "|---|---|---|---|---|"]
    for s in bundle["scripts"]:
        lines.append(
            f"| {_ROLE_LABEL.get(s['role'], s['role'])} | {_cell(s['name'])} | v{s['version']} "
            f"| {s['input_name'] or ''} | `{s['spec_sha256'][:12]}` |"
        )
    lines += [
        "",
        "Stages: extract → field_rules → transform → anonymize → load_outbox, then the "
        "teardown cleanup (staging removed; an unpublished batch is marked failed). "
        "Data passes through the staging store, never XCom; the batch waits for review in the "
        "ETL-Express outbox.",
        "",
    ]
    return "\n".join(lines)
