"""The Dagster UI as an engineer opens it: the real webserver on 127.0.0.1, queried through
its GraphQL API (what the asset graph page renders)."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from paccto_data.settings import PROJECT_ROOT
from tests.support_services import free_port, graphql

pytestmark = pytest.mark.e2e

ASSET_QUERY = """{ assetNodes { assetKey { path } description groupName kinds
  owners { __typename ... on TeamAssetOwner { team } }
  assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }"""


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home),
           "PACCTO_WAREHOUSE": str(home / "warehouse.duckdb"),
           "PACCTO_BUILD_DB": str(home / "build" / "warehouse.duckdb")}
    command = [str(Path(sys.executable).parent / "dagster-webserver"), "-w", "workspace.yaml",
               "-h", "127.0.0.1", "-p", str(port)]
    log = open(home / "webserver.log", "w")
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (home / "webserver.log").read_text()[-3000:]
            try:
                if requests.get(f"{url}/server_info", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "webserver did not start in 120 s"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_the_asset_graph_shows_the_four_layers_with_descriptions_owners_and_kinds(webserver):
    nodes = graphql(webserver, ASSET_QUERY)["assetNodes"]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    assert {"raw/un_m49", "staging/un_m49", "core/dim_country", "warehouse_release"} <= set(by_key)
    assert {n["groupName"] for n in nodes} == {"sources", "staging", "warehouse", "publication"}
    for key, node in by_key.items():
        assert node["description"], key
        assert node["kinds"], key
        assert node["owners"] == [{"__typename": "TeamAssetOwner", "team": "data-engineering"}], key
    checks = by_key["core/dim_country"]["assetChecksOrError"]["checks"]
    assert checks == [{"name": "great_expectations", "blocking": True}]


def test_the_home_page_is_served(webserver):
    page = requests.get(webserver, timeout=30)
    assert page.ok and re.search(r"<title[^>]*>Dagster</title>", page.text)
