"""The Helm chart, rendered by Helm's own engine, yields manifests a cluster accepts."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

CHART_DIR = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "dealflow"
PRODUCTION_VALUES = CHART_DIR / "ci" / "production-values.yaml"
RELEASE, NAMESPACE = "df", "crm"
# The oldest Kubernetes the chart supports (gRPC probes are GA in 1.27) and the newest shipped.
KUBE_VERSIONS = ["1.27.0", kubernetes_validate.latest_version()]
CRD_KINDS = {"ServiceMonitor"}  # no schema in kubernetes-validate; checked by hand below

GRPC_PORTS = {"deals": 50051, "approvals": 50052, "finance": 50053, "notifications": 50054}
COMPONENTS = {*GRPC_PORTS, "gateway", "worker", "intake"}
METRICS_PORT = 9100

Manifest = dict[str, Any]


@pytest.fixture(scope="module")
def chart() -> Any:
    with helm.Chart.load(CHART_DIR) as loaded:
        yield loaded


def production_values() -> dict[str, Any]:
    return helm.values_from_yaml(PRODUCTION_VALUES.read_text())


def render(chart: Any, values: dict[str, Any] | None = None) -> list[Manifest]:
    files = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    return [
        doc
        for path, text in sorted(files.items())
        if path.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def of_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    """Objects of one kind by their component label (or name when they have none)."""
    found = {}
    for m in manifests:
        if m["kind"] == kind:
            labels = m["metadata"].get("labels", {})
            found[labels.get("app.kubernetes.io/component", m["metadata"]["name"])] = m
    return found


def hook(manifest: Manifest) -> set[str]:
    value = manifest["metadata"].get("annotations", {}).get("helm.sh/hook", "")
    return {part.strip() for part in value.split(",") if part.strip()}


VALUE_SETS = {"default": lambda: None, "production": production_values}


@pytest.fixture(scope="module", params=sorted(VALUE_SETS))
def rendered(request: pytest.FixtureRequest, chart: Any) -> list[Manifest]:
    return render(chart, VALUE_SETS[request.param]())


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_manifests_pass_kubernetes_schemas(rendered: list[Manifest], kube_version: str) -> None:
    checked = 0
    for manifest in rendered:
        if manifest["kind"] in CRD_KINDS:
            continue
        kubernetes_validate.validate(manifest, kube_version, strict=True)
        checked += 1
    assert checked >= 20


def test_chart_lints_clean() -> None:
    for values in (None, production_values()):
        report = helm.lint(CHART_DIR, values, strict=True, kube_version="v1.30.0")
        problems = [m for m in report["messages"] if m["severity"] >= 2]
        assert not report["errors"] and not problems, report


def test_one_deployment_service_and_pdb_per_component(rendered: list[Manifest]) -> None:
    deployments = of_kind(rendered, "Deployment")
    assert set(deployments) == COMPONENTS
    assert set(of_kind(rendered, "Service")) == COMPONENTS
    budgets = of_kind(rendered, "PodDisruptionBudget")
    assert set(budgets) == COMPONENTS
    for component, deployment in deployments.items():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        for selector in (
            deployment["spec"]["selector"]["matchLabels"],
            budgets[component]["spec"]["selector"]["matchLabels"],
            of_kind(rendered, "Service")[component]["spec"]["selector"],
        ):
            assert selector.items() <= pod_labels.items(), component
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == [component]


def test_deployments_have_probes_resources_and_run_unprivileged(
    rendered: list[Manifest],
) -> None:
    for component, deployment in of_kind(rendered, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for container in pod["containers"]:
            assert container.get("livenessProbe") and container.get("readinessProbe"), component
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= container["resources"][bound].keys(), component
            security = container["securityContext"]
            assert security["runAsNonRoot"] is True and security["runAsUser"] == 10001
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            assert security["seccompProfile"]["type"] == "RuntimeDefault"
            # A read-only root needs a writable /tmp.
            assert "/tmp" in {mount["mountPath"] for mount in container["volumeMounts"]}


def container_of(rendered: list[Manifest], component: str) -> dict[str, Any]:
    deployment = of_kind(rendered, "Deployment")[component]
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def named_ports(container: dict[str, Any]) -> dict[str, int]:
    return {port["name"]: port["containerPort"] for port in container["ports"]}


@pytest.mark.parametrize("service", sorted(GRPC_PORTS))
def test_grpc_services_are_probed_on_their_grpc_port(
    rendered: list[Manifest], service: str
) -> None:
    port = GRPC_PORTS[service]
    container = container_of(rendered, service)
    assert named_ports(container) == {"grpc": port, "metrics": METRICS_PORT}
    assert container["livenessProbe"]["grpc"]["port"] == port
    assert container["readinessProbe"]["grpc"]["port"] == port
    service_ports = {
        p["name"]: p["port"] for p in of_kind(rendered, "Service")[service]["spec"]["ports"]
    }
    assert service_ports == {"grpc": port, "metrics": METRICS_PORT}


def test_gateway_and_worker_probes(rendered: list[Manifest]) -> None:
    gateway = container_of(rendered, "gateway")
    assert named_ports(gateway) == {"http": 8000, "metrics": METRICS_PORT}
    assert gateway["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert gateway["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    worker = container_of(rendered, "worker")
    assert named_ports(worker) == {"metrics": METRICS_PORT}
    assert worker["livenessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}


def test_the_mail_intake_listens_on_its_smtp_port(rendered: list[Manifest]) -> None:
    intake = container_of(rendered, "intake")
    assert intake["args"] == ["intake"]
    assert named_ports(intake) == {"smtp": 2525, "metrics": METRICS_PORT}
    assert intake["readinessProbe"]["tcpSocket"] == {"port": "smtp"}
    service = of_kind(rendered, "Service")["intake"]
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {
        "smtp": 2525,
        "metrics": METRICS_PORT,
    }
    (config,) = of_kind(rendered, "ConfigMap").values()
    assert config["data"]["DEALFLOW_SMTP_INTAKE_PORT"] == "2525"
    assert config["data"]["DEALFLOW_SMTP_INTAKE_HOST"] == "0.0.0.0"


def test_settings_reach_every_component(rendered: list[Manifest]) -> None:
    (config,) = of_kind(rendered, "ConfigMap").values()
    data = config["data"]
    assert {
        "NATS_URL",
        "TEMPORAL_ADDRESS",
        "TEMPORAL_NAMESPACE",
        "DEALFLOW_TASK_QUEUE",
        "DEALFLOW_LOG_FORMAT",
        "DEALFLOW_LOG_LEVEL",
        "DEALFLOW_METRICS_PORT",
        "GATEWAY_PORT",
    } <= data.keys()
    assert data["DEALFLOW_METRICS_PORT"] == str(METRICS_PORT)
    assert data["DEALFLOW_LOG_FORMAT"] in {"json", "text"}  # the only two the code accepts
    services = of_kind(rendered, "Service")
    for service, port in GRPC_PORTS.items():
        assert data[f"{service.upper()}_GRPC_PORT"] == str(port)
        # The code listens on 127.0.0.1 unless told otherwise: unreachable for probes and peers.
        assert data[f"{service.upper()}_GRPC_HOST"] in {"0.0.0.0", "[::]"}
        assert data[f"DEALFLOW_{service.upper()}_ADDR"] == (
            f"{services[service]['metadata']['name']}:{port}"
        )
    secrets = {s["metadata"]["name"]: s for s in rendered if s["kind"] == "Secret" and not hook(s)}
    for component, deployment in of_kind(rendered, "Deployment").items():
        sources = deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        assert {"configMapRef": {"name": config["metadata"]["name"]}} in sources, component
        secret_name = next(s["secretRef"]["name"] for s in sources if "secretRef" in s)
        if secrets:  # the chart owns the Secret unless existingSecret names one
            assert {"DATABASE_URL", "GATEWAY_JWT_SECRET"} <= secrets[secret_name]["data"].keys()


def test_migrations_run_as_pre_install_and_pre_upgrade_hook(rendered: list[Manifest]) -> None:
    (job,) = [m for m in rendered if m["kind"] == "Job"]
    assert hook(job) == {"pre-install", "pre-upgrade"}
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["args"] == ["migrate"]
    assert pod["restartPolicy"] == "Never"
    assert container["securityContext"]["runAsNonRoot"] is True
    # A pre-install hook runs before the release's ordinary objects exist: it may only use
    # inline settings and a Secret that is itself an earlier hook or managed outside the chart.
    assert not any("configMapRef" in source for source in container.get("envFrom", []))
    (secret_name,) = [s["secretRef"]["name"] for s in container["envFrom"] if "secretRef" in s]
    chart_secrets = {m["metadata"]["name"]: m for m in rendered if m["kind"] == "Secret"}
    if secret_name in chart_secrets:
        secret = chart_secrets[secret_name]
        assert hook(secret) == {"pre-install", "pre-upgrade"}
        weight = int(secret["metadata"]["annotations"]["helm.sh/hook-weight"])
        assert weight < int(job["metadata"]["annotations"].get("helm.sh/hook-weight", "0"))
        assert "DATABASE_URL" in secret["data"]
    env = {item["name"] for item in container["env"]}
    assert {"TEMPORAL_ADDRESS", "NATS_URL", "DEALFLOW_LOG_FORMAT"} <= env


def test_optional_objects_are_off_by_default(chart: Any) -> None:
    kinds = {m["kind"] for m in render(chart)}
    assert not kinds & {"HorizontalPodAutoscaler", "Ingress", "ServiceMonitor"}


def test_production_values_scale_expose_and_monitor(chart: Any) -> None:
    manifests = render(chart, production_values())
    autoscalers = of_kind(manifests, "HorizontalPodAutoscaler")
    assert set(autoscalers) == COMPONENTS
    for component, deployment in of_kind(manifests, "Deployment").items():
        # The autoscaler owns the replica count; a fixed one would fight it on every upgrade.
        assert "replicas" not in deployment["spec"], component
        assert autoscalers[component]["spec"]["minReplicas"] >= 2
        assert (
            autoscalers[component]["spec"]["scaleTargetRef"]["name"]
            == (deployment["metadata"]["name"])
        )
    (ingress,) = of_kind(manifests, "Ingress").values()
    assert ingress["spec"]["tls"][0]["secretName"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == of_kind(manifests, "Service")["gateway"]["metadata"]["name"]
    (monitor,) = [m for m in manifests if m["kind"] == "ServiceMonitor"]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    selector = monitor["spec"]["selector"]["matchLabels"]
    for service in of_kind(manifests, "Service").values():
        assert selector.items() <= service["metadata"]["labels"].items()
    # existingSecret: the chart makes no Secret of its own and every pod reads the named one.
    assert not [m for m in manifests if m["kind"] == "Secret"]
    existing = production_values()["secrets"]["existingSecret"]
    for deployment in of_kind(manifests, "Deployment").values():
        sources = deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        assert {"secretRef": {"name": existing}} in sources


def test_generated_jwt_secret_is_strong_and_a_given_one_is_kept(chart: Any) -> None:
    def jwt(values: dict[str, Any] | None) -> str:
        (secret,) = [m for m in render(chart, values) if m["kind"] == "Secret" and not hook(m)]
        return base64.b64decode(secret["data"]["GATEWAY_JWT_SECRET"]).decode()

    assert len(jwt(None)) >= 32
    given = "x" * 40  # the gateway refuses HS256 keys under 32 characters
    assert jwt({"secrets": {"gatewayJwtSecret": given}}) == given


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"deals": {"replicaCount": "three"}}, "replicaCount"),
        ({"replicas": 3}, "replicas"),
        ({"gateway": {"port": -1}}, "port"),
        ({"finance": {"port": 70000}}, "port"),
        ({"image": {"pullPolicy": "Sometimes"}}, "pullPolicy"),
        ({"worker": {"resources": {"limits": {"memory": None}}}}, "memory"),
        ({"worker": {"autoscaling": {"enabled": "yes"}}}, "enabled"),
        ({"config": {"logFormat": "console"}}, "logFormat"),
        ({"secrets": {"gatewayJwtSecret": "too-short-for-hs256"}}, "gatewayJwtSecret"),
        ({"config": {"temporal": {"address": "temporal"}}}, "address"),
        ({"serviceMonitor": {"enabled": True, "interval": "often"}}, "interval"),
        ({"ingress": {"enabled": True, "hosts": [{"host": "x.example.com"}]}}, "paths"),
    ],
)
def test_schema_refuses_bad_values(chart: Any, values: dict[str, Any], complaint: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=complaint):
        chart.render(values, name=RELEASE, namespace=NAMESPACE)


def test_schema_accepts_the_shipped_values(chart: Any) -> None:
    chart.validate_schema(chart.merge_values(None))
    chart.validate_schema(chart.merge_values(production_values()))
