# syntax=docker/dockerfile:1
# Fokus-Coach, the Telegram bot, as a container image (README: "Deployment").
#
#   docker build -t focus-coach .
#   docker run -d --name focus-coach -v focus-coach-data:/data \
#     -v "$PWD/secrets/telegram_bot_token:/run/secrets/telegram_bot_token:ro" focus-coach
#
# `docker run --rm focus-coach --version`, `... check` and `docker run --rm -it focus-coach chat`
# work too: the entry point is `focus-coach`, the default command `run`.

# A minor tag, not a digest: Debian's and Python's security updates arrive with a rebuild.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: the wheels, installed into the virtual environment the final stage takes ----
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# .dockerignore keeps out the virtual environment, git, tests, caches and data.
COPY . .
# The project's wheel (with the metrics extra: prometheus-client, for --metrics-port) and one
# of every dependency; then only these are installed (--no-index), bytecode compiled once here,
# so at run time nothing is written next to the code.
RUN pip wheel --wheel-dir /wheels ".[metrics]" \
    && python -m venv /opt/focus-coach \
    && set -- /wheels/focus_coach-*.whl \
    && /opt/focus-coach/bin/pip install --no-index --find-links=/wheels "$1[metrics]"

# ---- final: Python and the installed environment, nothing to compile with -----------------
FROM ${PYTHON_IMAGE}

ARG VERSION=unknown
ARG REVISION=unknown
LABEL org.opencontainers.image.title="Fokus-Coach" \
      org.opencontainers.image.description="A Telegram coach that helps you keep to the few social channels that fit your audience and your real weekly hours." \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

# DL3064 flags the name TELEGRAM_BOT_TOKEN_FILE: it holds where the secret is mounted, not the token.
# hadolint ignore=DL3064
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/focus-coach/bin:$PATH \
    FOCUS_COACH_DATA_DIR=/data \
    TELEGRAM_BOT_TOKEN_FILE=/run/secrets/telegram_bot_token

# A fixed uid/gid, so a bind-mounted data folder or secret file can be given to it on the host
# (chown 10001:10001). The home folder holds matplotlib's font cache (charts for /history).
RUN groupadd --gid 10001 focus-coach \
    && useradd --uid 10001 --gid focus-coach --no-log-init --create-home \
       --home-dir /home/focus-coach --shell /usr/sbin/nologin focus-coach \
    && install --directory --owner=focus-coach --group=focus-coach --mode=0700 /data

# The installed environment only: no wheels, no sources, no build tools. Both stages share the
# base image, so the interpreter the environment points at is the same.
COPY --from=builder /opt/focus-coach /opt/focus-coach

# Numeric, so the runtime can tell it is not root without reading /etc/passwd.
USER 10001:10001
WORKDIR /home/focus-coach
# matplotlib builds its font list on first use (a second or two); do it now, not at a /history.
RUN python -c "import matplotlib.font_manager"

VOLUME ["/data"]

# The bot stops on SIGTERM and lets the check-ins in flight finish (allow 90 s: compose.yaml).
STOPSIGNAL SIGTERM
# The running bot writes /data/heartbeat.json at start and after every tick (60 s).
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 \
    CMD ["focus-coach", "health", "--data-dir", "/data"]

ENTRYPOINT ["focus-coach"]
CMD ["run"]
