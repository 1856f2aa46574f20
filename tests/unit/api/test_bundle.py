from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from etl_express.api.routers.bundle import bundle_source

KINDS = ("extraction", "field_rules", "transformation", "anonymization", "upload")


def test_the_bundle_is_a_module_that_registers_the_page_under_the_plugin_name() -> None:
    source = bundle_source().decode()
    assert 'globalThis["ETL-Express"] = EtlExpressPage;' in source
    # Uses the host's libraries, imports nothing itself (no build step, no CDN).
    assert "globalThis.React" in source and "globalThis.ChakraUI" in source
    assert not re.search(r"^\s*import\s", source, flags=re.MULTILINE)
    assert 'new URL("../api/v1/", import.meta.url)' in source


def test_the_bundle_has_a_form_for_every_script_kind() -> None:
    source = bundle_source().decode()
    for kind in KINDS:
        assert re.search(rf"^  {kind}: \[", source, flags=re.MULTILINE), kind


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_bundle_parses_as_an_es_module(tmp_path: Path) -> None:
    module = tmp_path / "etl-express.mjs"
    module.write_bytes(bundle_source())
    result = subprocess.run(["node", "--check", str(module)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
