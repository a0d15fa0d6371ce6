# One image for the registry: `registry serve` by default (the API on port 8000), and
# `registry scheduler` as a second container from the same image (docker-compose.yml).
# The instance folder (/var/lib/registry: the SQLite file when no REGISTRY_DATABASE_URL is set,
# the generated secret key, demo keys) is a volume, owned by the unprivileged user the
# processes run as.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REGISTRY_INSTANCE_PATH=/var/lib/registry

WORKDIR /opt/registry
COPY pyproject.toml README.md ./
COPY registry ./registry
RUN pip install '.[postgres]'

RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/registry --shell /usr/sbin/nologin registry \
    && mkdir -p /var/lib/registry \
    && chown registry:registry /var/lib/registry
USER registry
WORKDIR /var/lib/registry
VOLUME ["/var/lib/registry"]

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/-/health', timeout=4)"]
# 0.0.0.0: inside a container the published port arrives on the container's own interface.
CMD ["registry", "serve", "--host", "0.0.0.0", "--port", "8000"]
