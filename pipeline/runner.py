"""The local runner: Beam's FnApiRunner, as the DirectRunner uses it for batch, minus the Prism attempt.

Beam 2.77's ``DirectRunner`` (``SwitchingDirectRunner``) first checks whether the
pipeline could run on Prism and, if so, *downloads the Prism binary from
github.com* and runs it there; only when that fails does it fall back to the
FnApiRunner. For furui that means, on every local run:

* traffic off the machine (a DNS lookup and an HTTPS request to github.com),
  which furui promises never to send;
* on a machine with internet access, a different engine (Prism) from the one
  that is documented, tested and benchmarked;
* offline, ~0.5-1 s lost per run: the pipeline is translated to its runner-API
  proto once more for Prism, then the download fails.

:class:`LocalRunner` does what the DirectRunner's FnApiRunner branch does (it
hands the pipeline options to the SDK workers through the provision info, so
``multi_processing`` workers see them) and nothing else. ``furui run`` uses it
when no ``--runner`` is given and when ``--runner=DirectRunner`` (or ``direct``)
is given; ``--runner=PrismRunner`` still chooses Prism explicitly.

It honours the DirectRunner's options: ``--direct_running_mode`` (``in_memory``,
``multi_threading``, ``multi_processing``) and ``--direct_num_workers``. In
``multi_processing`` mode its workers run ``python -m pipeline.worker`` (Beam's
SDK harness minus three harmless start-up log lines, see :mod:`pipeline.worker`)
instead of ``python -m apache_beam.runners.worker.sdk_worker_main``.
"""

from __future__ import annotations

import sys

from apache_beam.portability import python_urns
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.runners.runner import PipelineRunner

from pipeline import childproc

#: ``--runner`` value of :class:`LocalRunner` (Beam imports a dotted runner name).
LOCAL_RUNNER = "pipeline.runner.LocalRunner"

#: Beam's command for a local subprocess worker, and furui's replacement.
BEAM_WORKER_MODULE = "apache_beam.runners.worker.sdk_worker_main"
FURUI_WORKER_MODULE = "pipeline.worker"

#: Runner names that mean "the local DirectRunner" and are mapped to :data:`LOCAL_RUNNER`.
DIRECT_RUNNER_NAMES = ("DirectRunner", "direct", "SwitchingDirectRunner", "directrunner")


class LocalRunner(PipelineRunner):
    """Runs a batch pipeline on a new FnApiRunner, exactly as DirectRunner's FnApiRunner branch does.

    Like ``SwitchingDirectRunner`` it is a plain ``PipelineRunner`` while the
    pipeline is built and hands the run to ``FnApiRunner`` with the pipeline
    options in its provision info (so ``multi_processing`` workers see them);
    it only leaves out the Prism attempt before that.
    """

    def run_pipeline(self, pipeline, options):  # noqa: D102 - see the class docstring
        from apache_beam.portability.api import beam_provision_api_pb2
        from apache_beam.runners.portability.portable_runner import JobServiceHandle

        encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
        provision_info = fn_runner.ExtendedProvisionInfo(
            beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
        return _FnApiRunner(provision_info=provision_info).run_pipeline(pipeline, options)


def use_furui_worker(pipeline_proto) -> int:
    """Points the pipeline's subprocess-worker environments at :mod:`pipeline.worker`.

    Returns how many environments were changed (0 unless ``multi_processing``).
    Only Beam's own command (``<python> -m apache_beam.runners.worker.sdk_worker_main``,
    with this interpreter) is replaced, by :func:`pipeline.childproc.shell_command`:
    the same interpreter, started so that it imports the same furui as this process.
    """
    changed = 0
    for env in pipeline_proto.components.environments.values():
        if env.urn != python_urns.SUBPROCESS_SDK:
            continue
        command = env.payload.decode("utf-8")
        if command == f"{sys.executable} -m {BEAM_WORKER_MODULE}":
            env.payload = childproc.shell_command(FURUI_WORKER_MODULE).encode("utf-8")
            changed += 1
    return changed


class _FnApiRunner(fn_runner.FnApiRunner):
    """The FnApiRunner, with :func:`use_furui_worker` applied to the proto it runs."""

    def run_via_runner_api(self, pipeline_proto, options):  # noqa: D102
        use_furui_worker(pipeline_proto)
        return super().run_via_runner_api(pipeline_proto, options)


def is_local(runner: str | None) -> bool:
    """Whether a ``--runner`` value (None: unset) selects furui's local runner.

    >>> is_local(None), is_local("DirectRunner"), is_local(LOCAL_RUNNER), is_local("FlinkRunner")
    (True, True, True, False)
    """
    return runner is None or runner == LOCAL_RUNNER or runner in DIRECT_RUNNER_NAMES
