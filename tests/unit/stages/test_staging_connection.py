"""Staging on an object store takes its credentials from an Airflow connection."""

from __future__ import annotations

import json

import pytest

from etl_express.stages.entry import staging_store


def test_staging_credentials_come_from_the_named_airflow_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extra = {"endpoint_url": "http://127.0.0.1:9", "region_name": "eu-west-1"}
    connection = {
        "conn_type": "aws",
        "login": "AKIAEXAMPLE",
        "password": "s3cr3t-value",
        "extra": extra,
    }
    monkeypatch.setenv("AIRFLOW_CONN_ETLX_STAGING", json.dumps(connection))
    monkeypatch.setenv("ETLX_STAGING_CONN_ID", "etlx_staging")
    monkeypatch.setenv("ETLX_STAGING_URL", "s3://bucket/prefix")
    monkeypatch.setenv("ETLX_STAGING_OPTIONS", json.dumps({"key": "ignored"}))
    store = staging_store()
    assert store.root == "s3://bucket/prefix"
    assert (store.fs.key, store.fs.secret) == ("AKIAEXAMPLE", "s3cr3t-value")
    assert store.fs.client_kwargs == {
        "endpoint_url": "http://127.0.0.1:9",
        "region_name": "eu-west-1",
    }


def test_without_a_connection_the_json_options_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ETLX_STAGING_CONN_ID", raising=False)
    monkeypatch.setenv("ETLX_STAGING_URL", "s3://bucket/prefix")
    monkeypatch.setenv("ETLX_STAGING_OPTIONS", json.dumps({"key": "k", "secret": "s"}))
    store = staging_store()
    assert (store.fs.key, store.fs.secret) == ("k", "s")
