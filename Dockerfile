# The one image of the platform: the Dagster webserver, the daemon, every code server and the
# run workers of the DockerRunLauncher all run it; docker-compose.yml only changes the command.
#
#   docker compose build            (tags ${DAGSTER_IMAGE:-fwb-data-platform:latest})
#   docker build -t fwb-data-platform:latest .
#
# Stage "build" installs the locked dependencies with uv and prepares every dbt manifest
# (`python -m data_platform.tools.prepare`, i.e. `dbt parse` per project), so that no container ever
# parses a dbt project at start-up. Stage "runtime" keeps only the virtual environment and the
# application, and runs as the unprivileged user `dagster` (uid 1000).
#
# The lake and warehouse folders of the containers, declared once: the manifests are prepared
# with the --vars the runs pass (data_platform/dbt_profile.py), so that the stamp beside each
# manifest matches at run time and dbt keeps its partial parsing.
ARG LAKE_ROOT=/data/lake
ARG WAREHOUSE_DIR=/data/warehouse

FROM python:3.11-slim-bookworm AS build
ARG LAKE_ROOT
ARG WAREHOUSE_DIR

# uv: no cache kept in the layer, bytecode compiled once here (the runtime user cannot write
# __pycache__ into the root-owned venv), the base image's interpreter and never a download.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/dagster/venv \
    PATH=/opt/dagster/venv/bin:$PATH \
    DO_NOT_TRACK=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false

RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /opt/dagster/app

# The dependencies first, from the lock file alone: this layer is rebuilt only when
# pyproject.toml or uv.lock change, not when the code or a dbt model does.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

# Then the project (installed in editable mode: the code stays in /opt/dagster/app, where
# data_platform.settings finds open_data/ and dbt_submodules/), its dbt manifests, a check that
# the files generated from data_platform/locations.py (the workspaces, CODEOWNERS, blocks) match it,
# the dbt docs site (served by the dbt-docs service from .local/dbt_docs), and the two instance
# files: dagster.yaml as it is, and dagster.yaml + the DockerRunLauncher section (`docker-runs`
# profile).
COPY . .
RUN uv sync --frozen --no-dev \
    && mkdir -p "${LAKE_ROOT}" "${WAREHOUSE_DIR}" \
    && DATA_PLATFORM_LAKE_ROOT="${LAKE_ROOT}" DATA_PLATFORM_WAREHOUSE_DIR="${WAREHOUSE_DIR}" \
        python -m data_platform.tools.prepare \
    && python -m data_platform.tools.workspaces --check \
    && python -m data_platform.tools.docs_site build \
    && rm -rf dbt_submodules/*/logs \
    && chown -R 1000:1000 dbt_submodules/*/target \
    && mkdir -p /opt/dagster/instances \
    && cp dagster.yaml /opt/dagster/instances/dagster.yaml \
    && { cat dagster.yaml; echo; cat deploy/docker-runs/run_launcher.yaml; } \
        > /opt/dagster/instances/dagster-docker-runs.yaml


FROM python:3.11-slim-bookworm AS runtime
ARG LAKE_ROOT
ARG WAREHOUSE_DIR

# The runtime user, its Dagster instance folders and the data folders. Named volumes mounted on
# /data/lake, /data/warehouse and /opt/dagster/home/storage start as copies of these folders, so
# they belong to `dagster` too. The DockerRunLauncher instance (DAGSTER_HOME of the `docker-runs`
# profile) shares the storage folder (compute logs) through a symbolic link.
RUN groupadd --gid 1000 dagster \
    && useradd --uid 1000 --gid dagster --create-home --home-dir /home/dagster \
        --shell /usr/sbin/nologin dagster \
    && mkdir -p /opt/dagster/home/storage /opt/dagster/docker-runs-home "${LAKE_ROOT}" \
        "${WAREHOUSE_DIR}" \
    && ln -s /opt/dagster/home/storage /opt/dagster/docker-runs-home/storage \
    && chown -R dagster:dagster /opt/dagster/home /opt/dagster/docker-runs-home "${LAKE_ROOT}" \
        "${WAREHOUSE_DIR}"

# The code and the venv stay owned by root (read-only for the runtime user), except the target/
# folder of each dbt project, where dagster-dbt writes each run's artefacts (owned by uid 1000
# since the build stage; COPY --from keeps the ownership).
COPY --from=build /opt/dagster/venv /opt/dagster/venv
COPY --from=build /opt/dagster/app /opt/dagster/app
COPY --from=build /opt/dagster/instances/dagster.yaml /opt/dagster/home/dagster.yaml
COPY --from=build /opt/dagster/instances/dagster-docker-runs.yaml \
    /opt/dagster/docker-runs-home/dagster.yaml

ENV PATH=/opt/dagster/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/home \
    DATA_PLATFORM_LAKE_ROOT=${LAKE_ROOT} \
    DATA_PLATFORM_WAREHOUSE_DIR=${WAREHOUSE_DIR} \
    DO_NOT_TRACK=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false

USER 1000:1000
WORKDIR /opt/dagster/app
EXPOSE 3000 3001 4000

# No HEALTHCHECK: each service of docker-compose.yml checks its own server with Dagster's
# commands, and a run worker of the DockerRunLauncher runs no server to check.
CMD ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "deploy/workspace.yaml"]
