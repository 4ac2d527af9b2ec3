# syntax=docker/dockerfile:1
#
# The kubatch operator image (docs/install.md, section 1):
#
#   docker build -t kubatch:0.1.0 .
#
# Two stages: the first turns the source into wheels, the second installs those wheels
# into a clean Python image, so no build front end, source tree or pip cache ends up in
# the image that runs. The dependencies with C extensions (pydantic-core, aiohttp and its
# helpers, PyYAML) publish manylinux wheels for CPython 3.11, so neither stage needs a
# compiler (checked on amd64).

# Override to pin the base by digest (python:3.11-slim@sha256:...) for reproducible builds.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
# .dockerignore lets in only what the wheel is made of (pyproject.toml, requirements.lock,
# README.md, operator/), so edits to tests or docs do not invalidate this layer.
COPY . .
# The cache mount keeps downloaded wheels between builds without putting them in a layer.
# requirements.lock pins every dependency to the versions the test suite ran with.
RUN --mount=type=cache,target=/root/.cache/pip \
    python -m pip wheel --disable-pip-version-check --constraint requirements.lock --wheel-dir /wheels '.[postgres]'

FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="kubatch" \
      org.opencontainers.image.description="AWS Batch, self-hosted on Kubernetes: the kubatch operator and CLI" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"

# The same uid/gid the Helm chart sets (runAsUser 65532), with a passwd entry so that
# libraries that look the user up find one. No home directory: the root filesystem is
# read-only in the chart, and nothing needs one.
RUN groupadd --system --gid 65532 kubatch \
    && useradd --system --uid 65532 --gid 65532 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin kubatch

# Installed from the build stage's wheels only (--no-index): the image gets exactly the
# versions resolved there. The wheels are bind-mounted, never copied into a layer. pip
# compiles the .pyc files now, because a read-only root filesystem forbids it later.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore --no-index \
       --find-links=/wheels 'kubatch[postgres]' \
    && kubatch --help >/dev/null

# Set after the install so pip still writes the bytecode; at run time there is nowhere
# to write it. Unbuffered output so `kubectl logs` shows lines as they happen.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

USER 65532:65532
# 8080: Prometheus /metrics; 8081: kopf's /healthz (liveness).
EXPOSE 8080 8081
ENTRYPOINT ["kubatch"]
CMD ["operator"]
