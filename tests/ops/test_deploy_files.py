"""The deployment files validate with the tools operators use, and those checks fail on a broken file.

hadolint (with DL3057 HEALTHCHECK on) on the Dockerfile; the Compose Specification's
JSON Schema on docker-compose.yml, as each profile sees it; kubernetes-validate on
deploy/kubernetes/ (its schemas ship in the package: no network). No Docker engine
or cluster is needed, or used.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from tests.server import ROOT

BIN = Path(sys.executable).parent
KUBERNETES = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))


def run(*cmd: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def hadolint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return run(BIN / "hadolint", "--no-color", "--config", ROOT / ".hadolint.yaml", dockerfile)


def test_hadolint_passes_on_the_dockerfile() -> None:
    result = hadolint(ROOT / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_without_healthcheck(tmp_path: Path) -> None:
    text = (ROOT / "Dockerfile").read_text()
    broken = tmp_path / "Dockerfile"
    broken.write_text("\n".join(line for line in text.splitlines() if not line.startswith(("HEALTHCHECK", "  CMD"))) + "\n")
    result = hadolint(broken)
    assert result.returncode != 0
    assert "DL3057" in result.stdout


def test_dockerfile_runs_as_non_root_from_the_lock() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes" in text
    assert "requirements.lock" in text
    assert "\nUSER 10001" in text
    assert text.rstrip().splitlines()[-1].startswith('CMD ["')  # exec form


def compose_profile(profile: str | None) -> dict[str, Any]:
    """docker-compose.yml as ``docker compose [--profile P] config`` would see it: only the active services."""
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    document["services"] = {
        name: service for name, service in document["services"].items() if not service.get("profiles") or profile in service["profiles"]
    }
    return document


def validate_compose(document: dict[str, Any], path: Path) -> subprocess.CompletedProcess[str]:
    path.write_text(yaml.safe_dump(document))
    return run(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", path)


@pytest.mark.parametrize("profile", [None, "scale", "jobs"])
def test_compose_validates_in_each_profile(profile: str | None, tmp_path: Path) -> None:
    document = compose_profile(profile)
    result = validate_compose(document, tmp_path / "compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    for name, service in document["services"].items():
        for dependency in service.get("depends_on", {}):
            assert dependency in document["services"], f"{name} depends on {dependency}, absent in profile {profile}"


def test_compose_file_as_written_validates() -> None:
    result = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", ROOT / "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_schema_check_fails_on_a_misspelt_key(tmp_path: Path) -> None:
    document = compose_profile(None)
    document["services"]["api"]["cap_dorp"] = document["services"]["api"].pop("cap_drop")
    assert validate_compose(document, tmp_path / "compose.yml").returncode != 0


def test_compose_hardening_and_scale_out() -> None:
    single, scale = compose_profile(None)["services"], compose_profile("scale")["services"]
    assert set(single) == {"api"}
    assert set(scale) == {"api", "api-replica", "lb"}
    for name in ("api", "api-replica", "lb"):
        service = scale[name]
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in service["security_opt"]
        assert any(t.startswith("/tmp") for t in service["tmpfs"])
        assert "healthcheck" in service
    assert single["api"]["mem_limit"]
    assert single["api"]["cpus"]
    assert scale["api-replica"]["deploy"]["replicas"] >= 2
    assert scale["api-replica"]["deploy"]["resources"]["limits"]["memory"]
    assert "./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in scale["lb"]["volumes"]
    assert "server api-replica:8000" in (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()


def test_compose_jobs_profile_runs_workers_on_redis_with_the_shared_data_volume() -> None:
    jobs = compose_profile("jobs")["services"]
    assert set(jobs) == {"api", "worker", "redis"}
    assert jobs["worker"]["command"] == ["python", "-m", "service.cli", "worker"]
    assert jobs["worker"]["environment"]["GRADIENT_JOBS_BACKEND"] == "redis"
    assert jobs["worker"]["environment"]["GRADIENT_REDIS_URL"] == "redis://redis:6379/0"
    assert "gradient-data:/data" in jobs["worker"]["volumes"]
    assert "gradient-data:/data" in jobs["api"]["volumes"]  # datasets and checkpoints: one volume for every container
    for name in ("worker", "redis"):
        assert jobs[name]["read_only"] is True
        assert jobs[name]["cap_drop"] == ["ALL"]
        assert "healthcheck" in jobs[name]
    assert "GRADIENT_DATA_DIR=/data" in (ROOT / "Dockerfile").read_text()


def test_kubernetes_workers_share_the_data_volume_and_redis_with_the_api() -> None:
    def pod(name: str) -> dict[str, Any]:
        return yaml.safe_load((ROOT / "deploy" / "kubernetes" / name).read_text())["spec"]["template"]["spec"]

    api, worker = pod("deployment.yaml"), pod("worker-deployment.yaml")
    for spec in (api, worker):
        (container,) = spec["containers"]
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["GRADIENT_JOBS_BACKEND"] == "redis"
        assert env["GRADIENT_REDIS_URL"] == "redis://gradient-redis:6379/0"
        assert {v["name"]: v.get("persistentVolumeClaim", {}).get("claimName") for v in spec["volumes"]}["data"] == "gradient-data"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert worker["containers"][0]["command"] == ["python", "-m", "service.cli", "worker"]
    claim = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "data-pvc.yaml").read_text())
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]


def test_kubernetes_manifests_validate() -> None:
    kinds = {yaml.safe_load(p.read_text())["kind"] for p in KUBERNETES}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler"} <= kinds
    result = run(BIN / "kubernetes-validate", "--strict", *KUBERNETES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_validate_fails_on_a_misspelt_field(tmp_path: Path) -> None:
    deployment = (ROOT / "deploy" / "kubernetes" / "deployment.yaml").read_text()
    broken = tmp_path / "deployment.yaml"
    broken.write_text(deployment.replace("readinessProbe:", "readynessProbe:"))
    assert run(BIN / "kubernetes-validate", "--strict", broken).returncode != 0


def test_kubernetes_deployment_probes_limits_and_security() -> None:
    deployment = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["requests"]["cpu"]
    assert container["resources"]["limits"]["memory"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    env = {e["name"]: float(e["value"]) for e in container["env"] if e["name"].endswith("_SECONDS")}
    assert pod["terminationGracePeriodSeconds"] > env["GRADIENT_DRAIN_SECONDS"] + env["GRADIENT_GRACEFUL_TIMEOUT_SECONDS"]


def test_lock_pins_every_runtime_dependency() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    wanted = [Requirement(r) for r in tomllib.loads(pyproject)["project"]["dependencies"]]
    pinned = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            name, _, version = line.split(" ")[0].partition("==")
            pinned[name.lower().replace("_", "-")] = version
    for requirement in wanted:
        name = requirement.name.lower().replace("_", "-")
        assert name in pinned, f"{name} is not in requirements.lock: regenerate it (command at its top)"
        assert requirement.specifier.contains(pinned[name]), f"requirements.lock pins {name}=={pinned[name]}, outside {requirement}"


def test_redis_keeps_the_job_state_on_disk_in_compose_and_kubernetes() -> None:
    """The job state needs an append-only file fsynced every second, on a volume that outlives the container or pod."""
    persistence = ["--appendonly", "yes", "--appendfsync", "everysec"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["redis"]
    assert " ".join(persistence) in " ".join(compose["command"])
    assert any(v.endswith(":/data") for v in compose["volumes"])
    pod = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "redis-deployment.yaml").read_text())["spec"]["template"]["spec"]
    assert " ".join(persistence) in " ".join(pod["containers"][0]["args"])
    claim = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "redis-pvc.yaml").read_text())["metadata"]["name"]
    assert pod["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
