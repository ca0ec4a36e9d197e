"""The deployment files parse and agree with each other and with the app: no container engine or
cluster runs here (docs/RELIABILITY.md says what was verified where), so these checks read them.
Compose and Kubernetes YAML load with a YAML parser; the nginx upstreams are the compose replicas;
every health check asks Streamlit's /_stcore/health on the port the app listens on; the image
pins the same torch as requirements.txt and does not run as root."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
HEALTH = "/_stcore/health"


def requirement(name: str) -> str:
    line = next(line for line in (REPO / "requirements.txt").read_text().splitlines() if line.startswith(f"{name}=="))
    return line.split("==", 1)[1].strip()


def test_dockerfile_pins_cpu_torch_runs_as_a_user_and_checks_health():
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, flags=re.MULTILINE)
    assert f"torch=={requirement('torch')}+cpu" in text
    assert "download.pytorch.org/whl/cpu" in text
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert re.search(rf"^HEALTHCHECK .*\n?.*{re.escape(HEALTH)}", text, flags=re.MULTILINE)
    assert "deploy/prewarm.py" in text  # the disk caches are baked in at build time
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", ".cache", ".git"} <= set(ignored)


def test_compose_runs_replicas_of_one_image_behind_the_sticky_nginx():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    apps = {name: spec for name, spec in services.items() if name != "proxy"}
    assert len(apps) >= 2
    assert len({spec["image"] for spec in apps.values()}) == 1
    assert all("STREAMLIT_SERVER_COOKIE_SECRET" in spec["environment"] for spec in apps.values())
    assert not any("ENABLE_AGENT_API" in str(spec.get("environment")) for spec in apps.values())
    proxy = services["proxy"]
    assert any(volume.startswith("./nginx/app.conf:") for volume in proxy["volumes"])
    assert set(proxy["depends_on"]) == set(apps)
    site = (DEPLOY / "nginx" / "app.conf").read_text()
    upstreams = re.findall(r"^\s*server\s+(app\d+):8501", site, flags=re.MULTILINE)
    assert sorted(upstreams) == sorted(apps)
    assert re.search(r"^\s*hash\s+\$te_route\s+consistent;", site, flags=re.MULTILINE)
    assert "proxy_set_header Upgrade $http_upgrade;" in site
    port = proxy["ports"][0].split(":")[-1]
    assert f"listen {port};" in site


def test_kubernetes_manifest_has_probes_affinity_and_matching_names():
    documents = {doc["kind"]: doc for doc in yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text()) if doc}
    assert {"Deployment", "Service", "Ingress"} <= set(documents)
    deployment, service, ingress = documents["Deployment"], documents["Service"], documents["Ingress"]
    pod = deployment["spec"]["template"]
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    container = pod["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == 8501
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == HEALTH
    assert "memory" in container["resources"]["limits"]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 600  # WebSockets live long
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in {port["name"] for port in service["spec"]["ports"]}


def test_the_agent_api_stays_off_in_make_run_and_serve_lan():
    makefile = (REPO / "Makefile").read_text()
    config = (REPO / ".streamlit" / "config.toml").read_text()
    assert "enableAgentApi" not in makefile and "ENABLE_AGENT_API" not in makefile
    assert not re.search(r"^\s*enableAgentApi\s*=\s*true", config, flags=re.MULTILINE)
