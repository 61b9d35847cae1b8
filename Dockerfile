# syntax=docker/dockerfile:1
# The API and worker image: `discovery serve` by default, `discovery worker` in compose.
#
#   docker build -t discovery .                               # CPU build of torch (default)
#   docker build --build-arg TORCH_VARIANT=cu126 -t discovery:cuda .   # a CUDA build instead
#
# Two stages: the build stage installs everything into a virtual environment (/opt/discovery),
# the runtime stage copies only that, without pip's caches, the sources or build tools.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
# Which of PyTorch's wheel indexes torch comes from: `cpu` (about 1/10 the size of the CUDA
# build PyPI serves by default) or a CUDA one, e.g. `cu126`.
ARG TORCH_VARIANT=cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/discovery/bin:$PATH
RUN python -m venv /opt/discovery
WORKDIR /src

# Dependencies first, in their own layers: a change to the code does not reinstall them.
COPY pyproject.toml README.md ./
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
    > /tmp/requirements.txt
# torch (at the version pyproject pins) and torchvision from the chosen index; the rest of
# the requirements then find torch satisfied and keep that build.
RUN torch="$(grep '^torch==' /tmp/requirements.txt)" \
 && pip install --index-url "https://download.pytorch.org/whl/${TORCH_VARIANT}" "$torch" torchvision \
 && pip install -r /tmp/requirements.txt

# The project, as a wheel: code, the UI (search_ui/) and every default YAML are package data.
COPY discovery ./discovery
COPY indexer ./indexer
COPY models ./models
COPY search_ui ./search_ui
RUN pip install --no-deps . \
 && cd / && python -c "from discovery.api.app import ui_dir; assert str(ui_dir()).startswith('/opt/discovery/'), ui_dir()"

FROM python:${PYTHON_VERSION}-slim AS runtime
ENV PATH=/opt/discovery/bin:$PATH PYTHONUNBUFFERED=1 DISCOVERY_DATA_DIR=/data
RUN useradd --system --create-home discovery && mkdir -p /data && chown discovery /data
COPY --from=build /opt/discovery /opt/discovery
USER discovery
WORKDIR /home/discovery
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=5 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
CMD ["discovery", "serve", "--host", "0.0.0.0", "--port", "8000"]
