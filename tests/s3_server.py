"""moto's S3 server for tests: started on a free port of 127.0.0.1, stopped afterwards."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def running_moto_s3() -> Iterator[dict[str, Any]]:
    """Yield fsspec/s3fs storage options (``key``, ``secret``, ``client_kwargs``) for a fresh
    moto S3 server (threaded, in this process: other processes reach it over HTTP)."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield {
            "key": "test",
            "secret": "test",
            "client_kwargs": {
                "endpoint_url": f"http://127.0.0.1:{port}",
                "region_name": "us-east-1",
            },
        }
    finally:
        server.stop()


def s3_client(options: dict[str, Any]) -> Any:
    """A boto3 S3 client for the options `running_moto_s3` yields."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=options["client_kwargs"]["endpoint_url"],
        aws_access_key_id=options["key"],
        aws_secret_access_key=options["secret"],
        region_name=options["client_kwargs"]["region_name"],
    )
