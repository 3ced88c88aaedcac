"""deploy/kubernetes.yaml: valid for a current Kubernetes, strictly, and in
agreement with the Dockerfile and gunicorn.conf.py it deploys."""

import json
import re
import sys
from pathlib import Path

import pytest
import yaml
from kubernetes_validate.utils import latest_version

from testkit.bake import bake
from testkit.commands import clean_env, python, run

BIN = Path(sys.executable).parent
MANIFEST = "deploy/kubernetes.yaml"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return bake(tmp_path_factory.mktemp("kubernetes"), project_name="Payments API")


@pytest.fixture(scope="module")
def manifests(project) -> dict[str, dict]:
    documents = list(yaml.safe_load_all((project / MANIFEST).read_text()))
    kinds = [document["kind"] for document in documents]
    assert len(kinds) == len(set(kinds)), kinds
    return {document["kind"]: document for document in documents}


@pytest.fixture(scope="module")
def container(manifests) -> dict:
    containers = manifests["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def dockerfile(project: Path, instruction: str) -> list[str]:
    """The arguments of every ``instruction`` line of the bake's Dockerfile."""
    text = (project / "Dockerfile").read_text()
    return re.findall(rf"^{instruction}\s+(.+)$", text, flags=re.MULTILINE)


def validate(path: Path, cwd: Path):
    return run(
        BIN / "kubernetes-validate",
        "--strict",
        "--kubernetes-version",
        latest_version(),
        path,
        cwd=cwd,
        check=False,
    )


def test_manifests_validate_strictly_against_a_current_kubernetes(project, manifests):
    assert tuple(map(int, latest_version().split(".")[:2])) >= (1, 37)
    result = validate(Path(MANIFEST), project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed ") == len(manifests) == 4
    assert set(manifests) == {
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    }


def test_control_strict_validation_refuses_a_misspelt_field(project, tmp_path):
    misspelt = tmp_path / "kubernetes.yaml"
    text = (project / MANIFEST).read_text()
    assert "readOnlyRootFilesystem: true" in text
    misspelt.write_text(
        text.replace("readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true")
    )
    result = validate(misspelt, tmp_path)
    assert result.returncode == 1
    assert "'readOnlyRootFileSystem' was unexpected" in result.stdout


def test_the_service_is_named_after_the_bake(manifests):
    for document in manifests.values():
        assert document["metadata"]["name"] == "payments-api"


def test_the_deployment_rolls_and_scales_without_losing_capacity(manifests):
    deployment = manifests["Deployment"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["replicas"] >= 2
    strategy = deployment["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()

    budget = manifests["PodDisruptionBudget"]["spec"]
    assert budget["selector"]["matchLabels"].items() <= pod_labels.items()
    assert 1 <= budget["minAvailable"] < deployment["spec"]["replicas"]

    autoscaler = manifests["HorizontalPodAutoscaler"]["spec"]
    assert autoscaler["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert autoscaler["minReplicas"] >= 2
    assert autoscaler["maxReplicas"] > autoscaler["minReplicas"]

    service = manifests["Service"]["spec"]
    assert service["selector"].items() <= pod_labels.items()


def test_the_pod_runs_as_the_dockerfiles_user_and_is_locked_down(
    project, manifests, container
):
    uid = int(dockerfile(project, "USER")[-1])
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == uid
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    context = container["securityContext"]
    assert context["runAsUser"] == uid
    assert context["runAsNonRoot"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}


def test_requests_and_limits_are_set(container):
    for bound in ("requests", "limits"):
        assert set(container["resources"][bound]) == {"cpu", "memory"}, bound


def gunicorn_under(project: Path, env: dict[str, str]) -> dict:
    """gunicorn.conf.py's settings in the environment the manifest gives it."""
    script = (
        "import json, runpy; s = runpy.run_path('gunicorn.conf.py'); "
        "print(json.dumps({k: s[k] for k in "
        "('bind', 'worker_tmp_dir', 'forwarded_allow_ips')}))"
    )
    return json.loads(python("-c", script, cwd=project, env=clean_env(**env)).stdout)


def literal_env(container: dict) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def test_port_and_probes_are_what_the_image_serves(project, manifests, container):
    assert dockerfile(project, "EXPOSE") == ["8000"]
    assert "http://127.0.0.1:8000/healthz" in (project / "Dockerfile").read_text()

    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8000}
    settings = gunicorn_under(project, literal_env(container))
    assert settings["bind"].rsplit(":", 1)[1] == "8000"
    for probe in ("readinessProbe", "livenessProbe"):
        check = container[probe]["httpGet"]
        assert check["path"] == "/healthz", probe
        assert ports[check["port"]] == 8000, probe
    assert manifests["Service"]["spec"]["ports"][0]["targetPort"] in ("http", 8000)


def test_gunicorn_under_the_manifest_trusts_the_ingress_and_writes_only_memory(
    project, manifests, container
):
    env = literal_env(container)
    settings = gunicorn_under(project, env)
    assert env["FLASK_TRUSTED_PROXY_HOPS"] == "1"  # the app's ProxyFix
    assert settings["forwarded_allow_ips"] == ""  # gunicorn leaves it to the app
    # The root filesystem is read-only: gunicorn writes heartbeats to /dev/shm
    # and its control socket to XDG_RUNTIME_DIR, an in-memory emptyDir.
    assert settings["worker_tmp_dir"] == "/dev/shm"  # noqa: S108
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    in_memory = {
        v["name"]
        for v in pod["volumes"]
        if v.get("emptyDir", {}).get("medium") == "Memory"
    }
    mounted = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounted[env["XDG_RUNTIME_DIR"]] in in_memory


def test_the_secret_key_comes_from_a_secret(container):
    secret = next(e for e in container["env"] if e["name"] == "FLASK_SECRET_KEY")
    assert set(secret) == {"name", "valueFrom"}
    assert secret["valueFrom"]["secretKeyRef"]["name"] == "payments-api"
    assert "secret" not in json.dumps(literal_env(container)).lower()
