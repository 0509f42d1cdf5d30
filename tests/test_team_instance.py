"""The team instance (deploy/): the same code with run, event-log and schedule storage in a real
PostgreSQL server that this test starts itself (Debian's postgresql, as the `postgres` user
when run as root, on a free loopback port, in a temporary data directory) and stops afterwards.

A CLI build (`dg launch`) and a webserver and daemon started exactly as the systemd units in
deploy/systemd/ start them share that instance: the CLI's run, its events and its check result
are read back through the webserver's GraphQL API and from Python; a run launched through the
webserver is queued, dequeued by the daemon and read back from Python; a schedule turned on in
the UI is in PostgreSQL's schedule storage. Under CI (CI=true) a missing PostgreSQL fails the
test; elsewhere it skips.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from paccto_data.settings import PROJECT_ROOT
from tests.support_services import (
    Service,
    clean_environment,
    free_port,
    graphql,
    processes_mentioning,
)

pytestmark = pytest.mark.e2e

DEPLOY = PROJECT_ROOT / "deploy"
UNITS = DEPLOY / "systemd"
SERVER_ROOT = "/srv/paccto-data"  # where the units expect the checkout
BIN = Path(sys.executable).parent
# One source, its staging table and the staging table's blocking check: small and quick.
ASSETS = ("raw/wb_homicide", "staging/wb_homicide")
CHECKED = "staging/wb_homicide"
WARNING = re.compile(r"warning|deprecat|supersed", re.IGNORECASE)


# --- a real PostgreSQL server, started and stopped by the test ---

def _postgres_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    """initdb + pg_ctl in a temporary directory; as root, every command runs as `postgres`."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="paccto-pg-"))  # /tmp: postgres can reach it
        self.data = self.root / "data"
        self.port = free_port()
        self.user, self.password, self.db = "paccto_dagster", "team-test-secret", "paccto_dagster"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *command: str) -> None:
        result = subprocess.run([*self.as_postgres, *command], capture_output=True, text=True,
                                timeout=120, cwd=self.root)
        assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"

    def start(self) -> None:
        (self.root / "password").write_text(self.password + "\n")
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.root / "password", "postgres", "postgres")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.user,
                  f"--pwfile={self.root / 'password'}", "--auth=scram-sha-256",
                  "-E", "UTF8", "--locale=C")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} "
                   f"-c unix_socket_directories={self.root}")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
                  str(self.root / "server.log"), "-o", options, "-w", "-t", "60", "start")
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user,
                                      password=self.password, dbname="postgres")
        try:
            connection.autocommit = True  # CREATE DATABASE runs outside a transaction
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{self.db}"')
        finally:
            connection.close()

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                      "-t", "60", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def environment(self) -> dict[str, str]:
        """The PACCTO_PG_* variables deploy/dagster.yaml reads."""
        return {"PACCTO_PG_HOST": "127.0.0.1", "PACCTO_PG_PORT": str(self.port),
                "PACCTO_PG_USER": self.user, "PACCTO_PG_PASSWORD": self.password,
                "PACCTO_PG_DB": self.db}


@pytest.fixture(scope="module")
def postgres():
    bindir = _postgres_bindir()
    if bindir is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PostgreSQL is not installed (apt-get install postgresql); under CI "
                        "the team-instance test must run")
        pytest.skip("PostgreSQL is not installed")
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        assert processes_mentioning(str(server.data)) == [], "PostgreSQL still running"


# --- the deployment files, as a server reads them ---

def _unit_command(name: str, port: int) -> list[str]:
    """The unit's ExecStart, for this checkout instead of /srv/paccto-data and on `port`."""
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str
    unit.read(UNITS / name)
    service = unit["Service"]
    assert service["WorkingDirectory"] == SERVER_ROOT
    assert service["EnvironmentFile"] == "/etc/paccto-data/dagster.env"
    command = shlex.split(service["ExecStart"])
    assert command[0].startswith(f"{SERVER_ROOT}/.venv/bin/")
    command[0] = str(BIN / Path(command[0]).name)
    if "-p" in command:
        command[command.index("-p") + 1] = str(port)
    return command


def _environment_file() -> dict[str, str]:
    values = {}
    for line in (UNITS / "dagster.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def _warnings(output: str) -> list[str]:
    return [line for line in output.splitlines() if WARNING.search(line)]


def _wait(condition, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(interval)


RUN_QUERY = """query($id: ID!) { runOrError(runId: $id) { __typename ... on Run {
  status assetSelection { path }
  eventConnection(afterCursor: null) { events { __typename
    ... on MaterializationEvent { assetKey { path } }
    ... on AssetCheckEvaluationEvent { evaluation { checkName success assetKey { path } } } } } } } }"""

CHECK_QUERY = """query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
  ... on AssetNode { assetChecksOrError { ... on AssetChecks { checks { name
    executionForLatestMaterialization { runId status } } } } } } }"""

DAEMONS_QUERY = """{ instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } }"""

LAUNCH = """mutation($params: ExecutionParams!) { launchPipelineExecution(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId status } }
  ... on PythonError { message } ... on InvalidSubsetError { message } } }"""


def _without_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines()
                     if not line.lstrip().startswith("#")).strip("\n")


def _readme_blocks(language: str) -> list[str]:
    text = (DEPLOY / "README.md").read_text()
    return [block.strip("\n") for block in re.findall(rf"```{language}\n(.*?)```", text, re.S)]


def test_the_deployment_files_agree_with_each_other_and_with_deploy_readme():
    read = set(re.findall(r"env: (\w+)", (DEPLOY / "dagster.yaml").read_text()))
    assert read == {"PACCTO_PG_HOST", "PACCTO_PG_PORT", "PACCTO_PG_USER", "PACCTO_PG_PASSWORD",
                    "PACCTO_PG_DB"}
    # the environment file gives every variable the instance reads, and DAGSTER_HOME
    assert read | {"DAGSTER_HOME"} <= set(_environment_file())
    # the README shows the files as they are
    assert _without_comments((DEPLOY / "dagster.yaml").read_text()) in _readme_blocks("yaml")
    ini = _readme_blocks("ini")
    assert _without_comments((UNITS / "dagster.env").read_text()) in ini
    for unit in ("paccto-dagster-webserver.service", "paccto-dagster-daemon.service"):
        assert (UNITS / unit).read_text().strip("\n") in ini, unit


def test_the_kubernetes_run_launcher_configuration_is_valid_for_dagster_k8s(monkeypatch):
    """On paper, but with exact keys: the README's run launcher block passes K8sRunLauncher's
    own configuration schema, and the Helm values use the chart's keys and the instance's
    settings."""
    import yaml
    from dagster._config import process_config
    from dagster_k8s import K8sRunLauncher

    [block] = [b for b in _readme_blocks("yaml") if b.startswith("run_launcher:")]
    launcher = yaml.safe_load(block)["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    result = process_config(K8sRunLauncher.config_type(), launcher["config"])
    assert result.success, [error.message for error in result.errors]

    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    # the dagster chart's K8sRunLauncherConfig fields (helm/dagster/schema, 1.13)
    assert set(k8s) <= {
        "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile",
        "envConfigMaps", "envSecrets", "envVars", "volumeMounts", "volumes", "labels",
        "failPodOnRunFailure", "resources", "schedulerName", "securityContext", "runK8sConfig"}
    assert set(k8s["runK8sConfig"]) <= {"containerConfig", "podSpecConfig",
                                         "podTemplateSpecMetadata", "jobSpecConfig",
                                         "jobMetadata"}
    assert k8s["jobNamespace"] == launcher["config"]["job_namespace"]
    assert (k8s["runK8sConfig"]["containerConfig"]["resources"]
            == launcher["config"]["run_k8s_config"]["container_config"]["resources"])
    assert values["postgresql"]["enabled"] is False
    assert (values["postgresql"]["postgresqlScheme"]
            == instance["storage"]["postgres"]["postgres_db"]["scheme"])
    assert (values["global"]["postgresqlSecretName"]
            == launcher["config"]["postgres_password_secret"])
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["type"] == "QueuedRunCoordinator"
    assert (coordinator["config"]["queuedRunCoordinator"]["maxConcurrentRuns"]
            == instance["run_queue"]["max_concurrent_runs"])
    [deployment] = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "paccto_data.definitions"]
    assert {e["name"] for e in deployment["env"]} == {
        "PACCTO_SOURCE_MODE", "PACCTO_WAREHOUSE", "PACCTO_BUILD_DB", "PACCTO_RAW_DIR",
        "PACCTO_PUBLISH_DIR"}


def test_a_cli_build_and_the_webserver_and_daemon_share_the_postgres_instance(
        postgres, tmp_path, monkeypatch):
    from dagster import AssetCheckKey, AssetKey, DagsterInstance, DagsterRunStatus
    from dagster._core.storage.asset_check_execution_record import (
        AssetCheckExecutionRecordStatus,
    )
    from dagster_postgres import (
        PostgresEventLogStorage,
        PostgresRunStorage,
        PostgresScheduleStorage,
    )

    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").symlink_to(DEPLOY / "dagster.yaml")  # as deploy/README.md says
    settings = {
        "DAGSTER_HOME": str(home), **postgres.environment(),
        "PACCTO_SOURCE_MODE": "snapshot",
        "PACCTO_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "PACCTO_BUILD_DB": str(tmp_path / "build" / "warehouse.duckdb"),
        "PACCTO_RAW_DIR": str(tmp_path / "raw"),
        "PACCTO_PUBLISH_DIR": str(tmp_path / "published"),
    }
    env = clean_environment(**settings, VIRTUAL_ENV=str(BIN.parent),
                            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    # 0. the schema, created once before anything starts (deploy/README.md), so that the
    # services and the CLI never race to create the tables of an empty database
    migrate = subprocess.run([str(BIN / "dagster"), "instance", "migrate"], cwd=PROJECT_ROOT,
                             env=env, capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    assert _warnings(migrate.stdout + migrate.stderr) == []

    webserver = Service(_unit_command("paccto-dagster-webserver.service", port),
                        cwd=PROJECT_ROOT, env=env, log=tmp_path / "webserver.log")
    daemon = Service(_unit_command("paccto-dagster-daemon.service", port),
                     cwd=PROJECT_ROOT, env=env, log=tmp_path / "daemon.log")
    left = {}
    try:
        # 1. a CLI build, while the services start
        build = subprocess.run([str(BIN / "dg"), "launch", "--assets", ",".join(ASSETS)],
                               cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                               timeout=600)
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        assert _warnings(build.stdout + build.stderr) == []

        # 2. from Python: the instance is PostgreSQL's, and holds the run, its events, its check
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        with DagsterInstance.get() as instance:
            assert isinstance(instance.run_storage, PostgresRunStorage)
            assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
            assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
            [cli_run] = instance.get_runs()
            assert cli_run.status == DagsterRunStatus.SUCCESS
            assert {k.to_user_string() for k in cli_run.asset_selection} == set(ASSETS)
            for key in ASSETS:
                event = instance.get_latest_materialization_event(AssetKey.from_user_string(key))
                assert event is not None and event.run_id == cli_run.run_id, key
            check_key = AssetCheckKey(AssetKey.from_user_string(CHECKED), "great_expectations")
            [check] = instance.event_log_storage.get_asset_check_execution_history(check_key, 1)
            assert check.run_id == cli_run.run_id
            assert check.status == AssetCheckExecutionRecordStatus.SUCCEEDED

        # 3. through the webserver: the same run, events and check result
        webserver.wait_http(f"{url}/server_info", timeout=180)
        run = graphql(url, RUN_QUERY, {"id": cli_run.run_id})["runOrError"]
        assert run["__typename"] == "Run" and run["status"] == "SUCCESS"
        events = run["eventConnection"]["events"]
        assert {"/".join(e["assetKey"]["path"]) for e in events
                if e["__typename"] == "MaterializationEvent"} == set(ASSETS)
        assert [(e["evaluation"]["checkName"], "/".join(e["evaluation"]["assetKey"]["path"]),
                 e["evaluation"]["success"]) for e in events
                if e["__typename"] == "AssetCheckEvaluationEvent"
                and e["evaluation"]["checkName"] == "great_expectations"] == [
            ("great_expectations", CHECKED, True)]
        node = graphql(url, CHECK_QUERY, {"key": {"path": CHECKED.split("/")}})
        [check_node] = node["assetNodeOrError"]["assetChecksOrError"]["checks"]
        assert check_node["executionForLatestMaterialization"] == {
            "runId": cli_run.run_id, "status": "SUCCEEDED"}

        # 4. the daemon's heartbeats, written to PostgreSQL, are what the webserver reports
        def daemons_healthy():
            statuses = graphql(url, DAEMONS_QUERY)["instance"]["daemonHealth"][
                "allDaemonStatuses"]
            wanted = {"SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR"}
            return wanted <= {s["daemonType"] for s in statuses if s["healthy"]}
        _wait(daemons_healthy, 120, "the daemon's heartbeat", interval=0.5)

        # 5. a run launched through the webserver: queued, dequeued by the daemon, read in Python
        [location] = graphql(url, """{ workspaceOrError { ... on Workspace {
            locationEntries { name } } } }""")["workspaceOrError"]["locationEntries"]
        launched = graphql(url, LAUNCH, {"params": {
            "selector": {"repositoryLocationName": location["name"],
                         "repositoryName": "__repository__", "pipelineName": "__ASSET_JOB",
                         "assetSelection": [{"path": ASSETS[0].split("/")}]},
            "mode": "default"}})["launchPipelineExecution"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        with DagsterInstance.get() as instance:
            finished = _wait(lambda: (r := instance.get_run_by_id(run_id)).is_finished and r,
                             300, f"run {run_id} launched through the webserver", interval=0.5)
            assert finished.status == DagsterRunStatus.SUCCESS, daemon.output()[-3000:]
            # it went through the queue, which only the daemon empties
            enqueued = instance.get_records_for_run(run_id, of_type=_run_enqueued()).records
            assert enqueued, "the run was not queued"

            # 6. a schedule turned on in the UI is in PostgreSQL's schedule storage
            schedules = graphql(url, f"""{{ schedulesOrError(repositorySelector: {{
                repositoryLocationName: "{location['name']}", repositoryName: "__repository__"}})
                {{ ... on Schedules {{ results {{ name }} }} }} }}""")["schedulesOrError"]["results"]
            if schedules:
                name = schedules[0]["name"]
                selector = {"repositoryLocationName": location["name"],
                            "repositoryName": "__repository__", "scheduleName": name}
                started = graphql(url, """mutation($s: ScheduleSelector!) {
                    startSchedule(scheduleSelector: $s) { __typename } }""", {"s": selector})
                assert started["startSchedule"]["__typename"] == "ScheduleStateResult", started
                states = {s.name: s.status.value for s in instance.all_instigator_state()}
                assert states.get(name) == "RUNNING", states
                graphql(url, """mutation($s: ScheduleSelector!) {
                    resetSchedule(scheduleSelector: $s) { __typename } }""", {"s": selector})
    finally:
        # as systemd stops them (SIGTERM), then nothing of theirs may be left
        for name, service in (("webserver", webserver), ("daemon", daemon)):
            left[name] = service.stop(signal_name="SIGTERM")
    assert left == {"webserver": [], "daemon": []}
    assert processes_mentioning(str(home)) == []
    assert _warnings(webserver.output()) == []
    assert _warnings(daemon.output()) == []


def _run_enqueued():
    from dagster import DagsterEventType

    return DagsterEventType.RUN_ENQUEUED
