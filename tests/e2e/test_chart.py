"""The Helm chart: lint, render, and check the result against the real apiserver.

Rendering alone proves little: the server-side dry run makes the apiserver validate
every object (schemas, RBAC escalation rules, Pod Security admission), `helm install`
proves the chart installs, and `kubectl auth can-i` as the operator's ServiceAccount
proves what the RBAC actually grants. The expected operator rules are written out here
in full, so widening the operator's permissions is a deliberate edit of this file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tarfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from kubatch import metrics
from tests.e2e.kubectl import Kubectl

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "charts" / "kubatch"
CRDS = REPO_ROOT / "crds"


@dataclass(frozen=True)
class Helm:
    binary: Path
    env: dict[str, str]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(self.binary), *args], capture_output=True, text=True, env=self.env, timeout=300)
        if check and result.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result

    def template(self, *args: str, namespace: str = "kubatch-system", release: str = "kubatch") -> list[dict[str, Any]]:
        out = self.run("template", release, str(CHART), "--namespace", namespace, *args).stdout
        return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    """helm built from the pinned Go module (cached), with its config and cache kept private."""
    built = subprocess.run(["bash", str(REPO_ROOT / "hack/tools/build-helm.sh")],
                           capture_output=True, text=True, timeout=1800)
    assert built.returncode == 0, f"hack/tools/build-helm.sh failed:\n{built.stderr}"
    home = tmp_path_factory.mktemp("helm-home")
    env = os.environ | {f"HELM_{part}_HOME": str(home / part.lower()) for part in ("CACHE", "CONFIG", "DATA")}
    return Helm(binary=Path(built.stdout.strip().splitlines()[-1]) / "helm", env=env)


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [doc for doc in by_kind(docs, kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def grants(role: dict[str, Any]) -> set[tuple[str, str, str]]:
    """A role's rules flattened to (apiGroup, resource, verb) triples."""
    return {(group, resource, verb)
            for rule in role["rules"]
            for group in rule["apiGroups"] for resource in rule["resources"] for verb in rule["verbs"]}


def triples(groups: list[str], resources: list[str], verbs: list[str]) -> set[tuple[str, str, str]]:
    return {(g, r, v) for g in groups for r in resources for v in verbs}


OPERATOR_CLUSTER_RULES = (
    triples(["kubatch.io"], ["computeenvironments", "jobqueues", "schedulingpolicies"], ["get", "list", "watch", "patch"])
    | triples(["kubatch.io"], ["computeenvironments/status", "jobqueues/status", "schedulingpolicies/status"],
              ["patch", "update"])
    | triples([""], ["nodes", "namespaces"], ["get", "list", "watch"])
    | triples(["apiextensions.k8s.io"], ["customresourcedefinitions"], ["list", "watch"])
    | triples(["", "events.k8s.io"], ["events"], ["create", "patch"])
)
OPERATOR_JOB_RULES = (
    triples(["kubatch.io"], ["batchjobs", "jobdefinitions"], ["get", "list", "watch", "patch"])
    | triples(["kubatch.io"], ["batchjobs/status", "jobdefinitions/status"], ["patch", "update"])
    | triples([""], ["pods", "services"], ["create", "delete", "get", "list", "watch"])
    | triples([""], ["pods/log"], ["get"])
)
RETENTION_RULES = triples(["kubatch.io"], ["batchjobs"], ["delete"])
"""With an archive (the default, SQLite): finished jobs are deleted once archived."""


API_RULES = (
    triples(["kubatch.io"], ["batchjobs"], ["get", "list", "create", "patch"])
    | triples(["kubatch.io"], ["jobdefinitions", "computeenvironments", "jobqueues", "schedulingpolicies"],
              ["get", "list", "create", "patch", "delete"])
    | triples(["kubatch.io"], ["jobdefinitions/status"], ["patch"])  # the revision it registers, numbered at once
    | triples([""], ["pods"], ["list"])
)


def deployment_of(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = by_kind(docs, "Deployment")
    return deployment


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = by_kind(docs, "Deployment")
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


# --- the chart on its own ----------------------------------------------------------------


def test_helm_lint_is_clean(helm: Helm) -> None:
    for values in ([], ["--set", "watchNamespaces={team-a,team-b}", "--set", "metrics.serviceMonitor.enabled=true"]):
        result = helm.run("lint", "--strict", str(CHART), *values)
        assert "0 chart(s) failed" in result.stdout, result.stdout
        assert "[WARNING]" not in result.stdout and "[ERROR]" not in result.stdout, result.stdout


def test_chart_crds_are_the_repo_crds(helm: Helm, tmp_path: Path) -> None:
    # A symlink, not a copy, so the chart can never ship stale CRDs.
    link = CHART / "crds"
    assert link.is_symlink() and os.readlink(link) == "../../crds"
    expected = {path.name: path.read_text() for path in sorted(CRDS.glob("*.yaml"))}
    assert len(expected) == 5
    # helm follows the link when it loads the chart (install, template)... (Not checked
    # with `helm show crds`: it joins the files without `---`, so YAML sees one document.)
    rendered = [doc for doc in helm.template("--include-crds") if doc["kind"] == "CustomResourceDefinition"]
    assert sorted(rendered, key=lambda d: d["metadata"]["name"]) == sorted(
        (yaml.safe_load(text) for text in expected.values()), key=lambda d: d["metadata"]["name"])
    # ... and when it packages it: the archive holds the files themselves.
    helm.run("package", str(CHART), "--destination", str(tmp_path))
    (archive,) = tmp_path.glob("kubatch-*.tgz")
    with tarfile.open(archive) as tar:
        packaged = {Path(member.name).name: tar.extractfile(member).read().decode()
                    for member in tar.getmembers() if member.name.startswith("kubatch/crds/")}
    assert packaged == expected


def test_default_render(helm: Helm) -> None:
    docs = helm.template()
    main = container(docs)
    assert main["command"] == ["kubatch"]
    assert main["args"] == ["operator", "--metrics-port=8080", "--leader-election-namespace=kubatch-system",
                            "--all-namespaces", "--finished-job-retention=1d"]
    # the SQLite archive, on a PersistentVolumeClaim the chart creates and keeps on uninstall
    assert {"name": "KUBATCH_ARCHIVE_URL", "value": "sqlite:///var/lib/kubatch/archive/jobs.sqlite"} in main["env"]
    assert {"name": "archive", "mountPath": "/var/lib/kubatch/archive"} in main["volumeMounts"]
    (claim,) = by_kind(docs, "PersistentVolumeClaim")
    assert claim["metadata"]["name"] == "kubatch-archive" and claim["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    # ... writable by the operator's non-root user
    assert deployment_of(docs)["spec"]["template"]["spec"]["securityContext"]["fsGroup"] == 65532
    assert {p["name"]: p["containerPort"] for p in main["ports"]} == {"metrics": 8080, "health": 8081}
    for probe in (main["livenessProbe"], main["readinessProbe"]):
        assert probe["httpGet"] == {"path": "/healthz", "port": "health"}
    assert set(main["resources"]) == {"requests", "limits"}

    (deployment,) = by_kind(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    # replicas elect a leader, so an upgrade may overlap old and new pods: only one acts
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate",
                                              "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 65532
    security = main["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}

    (service,) = by_kind(docs, "Service")
    assert [p["port"] for p in service["spec"]["ports"]] == [8080]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert not by_kind(docs, "ServiceMonitor")


def test_rbac_is_minimal(helm: Helm) -> None:
    docs = helm.template()
    for role in by_kind(docs, "ClusterRole") + by_kind(docs, "Role"):
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule[field], f"wildcard in {role['metadata']['name']}: {rule}"
            assert "resourceNames" not in rule and "nonResourceURLs" not in rule

    assert grants(one(docs, "ClusterRole", "kubatch")) == OPERATOR_CLUSTER_RULES
    assert grants(one(docs, "ClusterRole", "kubatch-jobs")) == OPERATOR_JOB_RULES | RETENTION_RULES
    assert grants(one(docs, "Role", "kubatch-leader-election")) == triples(
        ["coordination.k8s.io"], ["leases"], ["get", "create", "update", "patch"])
    # The operator never creates jobs, definitions or queues, deletes only archived jobs, and never reads secrets.
    operator = OPERATOR_CLUSTER_RULES | OPERATOR_JOB_RULES | RETENTION_RULES
    assert {t for t in operator if t[0] == "kubatch.io" and t[2] in ("create", "delete")} == RETENTION_RULES
    without_archive = helm.template("--set", "archive.type=none")
    assert grants(one(without_archive, "ClusterRole", "kubatch-jobs")) == OPERATOR_JOB_RULES
    assert not {t for t in operator if t[1] == "secrets"}

    # Each operator role is bound to the chart's ServiceAccount, cluster-wide by default.
    for name in ("kubatch", "kubatch-jobs"):
        binding = one(docs, "ClusterRoleBinding", name)
        assert binding["roleRef"]["name"] == name
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kubatch", "namespace": "kubatch-system"}]

    submitter = one(docs, "ClusterRole", "kubatch-job-submitter")
    assert grants(submitter) == (
        triples(["kubatch.io"], ["batchjobs"], ["create", "get", "list", "watch", "patch"])
        | triples(["kubatch.io"], ["jobdefinitions"], ["get", "list"])
        | triples([""], ["pods/log"], ["get"]))
    admin = one(docs, "ClusterRole", "kubatch-admin")
    assert admin["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"
    assert admin["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    # Status belongs to the operator: people's roles never write it.
    for role in (submitter, admin, one(docs, "ClusterRole", "kubatch-view")):
        assert not {t for t in grants(role) if t[1].endswith("/status")}


def test_watch_namespaces_narrow_args_and_rbac(helm: Helm) -> None:
    docs = helm.template("--set", "watchNamespaces={team-a,team-b}")
    args = container(docs)["args"]
    assert "--namespace=team-a" in args and "--namespace=team-b" in args
    assert "--all-namespaces" not in args
    # The job-side permissions are granted in the watched namespaces only.
    assert [b["metadata"]["name"] for b in by_kind(docs, "ClusterRoleBinding")] == ["kubatch"]
    bindings = {b["metadata"]["namespace"]: b for b in by_kind(docs, "RoleBinding")
                if b["roleRef"]["name"] == "kubatch-jobs"}
    assert set(bindings) == {"team-a", "team-b"}
    assert all(b["roleRef"]["kind"] == "ClusterRole" for b in bindings.values())


def test_optional_pieces(helm: Helm) -> None:
    docs = helm.template("--set", "metrics.serviceMonitor.enabled=true", "--set", "logLevel=debug",
                         "--set", "rbac.userRoles.create=false", "--set", "nodeSelector.pool=system")
    (monitor,) = by_kind(docs, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert "--verbose" in container(docs)["args"]
    assert {r["metadata"]["name"] for r in by_kind(docs, "ClusterRole")} == {"kubatch", "kubatch-jobs"}
    (deployment,) = by_kind(docs, "Deployment")
    assert deployment["spec"]["template"]["spec"]["nodeSelector"] == {"pool": "system"}


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def test_the_api_deployment_service_and_rbac(helm: Helm) -> None:
    docs = helm.template("--set", "api.enabled=true", "--set", "api.credentialsSecret=keys",
                         "--set", "api.tlsSecret=tls", "--set", "api.replicas=2",
                         "--set", "archive.type=postgresql", "--set", "archive.postgresql.urlSecret=db")
    api, operator = one(docs, "Deployment", "kubatch-api"), one(docs, "Deployment", "kubatch")
    api_pod, operator_pod = (d["spec"]["template"]["metadata"]["labels"] for d in (api, operator))
    # Neither workload's selector takes the other's pods.
    assert not matches(operator["spec"]["selector"]["matchLabels"], api_pod)
    assert not matches(api["spec"]["selector"]["matchLabels"], operator_pod)
    assert api["spec"]["replicas"] == 2
    (main,) = api["spec"]["template"]["spec"]["containers"]
    assert main["command"] == ["kubatch"]
    assert main["args"] == ["api", "--host=0.0.0.0", "--port=8000", "--region=us-east-1",
                            "--account-id=000000000000",
                            "--credentials-file=/etc/kubatch/credentials/credentials.yaml",
                            "--tls-cert=/etc/kubatch/tls/tls.crt", "--tls-key=/etc/kubatch/tls/tls.key"]
    for probe in (main["livenessProbe"], main["readinessProbe"]):
        assert probe["httpGet"] == {"path": "/healthz", "port": "http", "scheme": "HTTPS"}
    assert main["securityContext"] == container(helm.template())["securityContext"]
    volumes = {v["name"]: v for v in api["spec"]["template"]["spec"]["volumes"]}
    assert volumes["credentials"]["secret"]["secretName"] == "keys"
    assert volumes["tls"]["secret"]["secretName"] == "tls"
    assert all(m.get("readOnly") for m in main["volumeMounts"] if m["name"] in ("credentials", "tls"))
    # both read the PostgreSQL archive from the user's Secret; no volume for it
    url = {"name": "KUBATCH_ARCHIVE_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}
    assert url in main["env"] and url in operator["spec"]["template"]["spec"]["containers"][0]["env"]
    assert not by_kind(docs, "PersistentVolumeClaim")

    service = one(docs, "Service", "kubatch-api")
    assert service["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": "http", "protocol": "TCP"}]
    assert matches(service["spec"]["selector"], api_pod) and not matches(service["spec"]["selector"], operator_pod)
    metrics = one(docs, "Service", "kubatch-metrics")
    assert not matches(metrics["spec"]["selector"], api_pod)

    assert grants(one(docs, "ClusterRole", "kubatch-api")) == API_RULES
    assert not {t for t in API_RULES if t[1] == "secrets"
                or (t[1].endswith("/status") and t[1:] != ("jobdefinitions/status", "patch"))}
    binding = one(docs, "ClusterRoleBinding", "kubatch-api")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kubatch-api", "namespace": "kubatch-system"}]
    assert api["spec"]["template"]["spec"]["serviceAccountName"] == "kubatch-api"


def test_the_api_needs_a_credentials_secret(helm: Helm) -> None:
    result = helm.run("template", "kubatch", str(CHART), "--set", "api.enabled=true", "--set", "archive.type=none",
                      check=False)
    assert result.returncode != 0 and "api.credentialsSecret is required" in result.stderr, result.stderr


@pytest.mark.parametrize(("values", "message"), [
    (["api.enabled=true", "api.credentialsSecret=keys"], "api.enabled needs archive.type=postgresql"),
    (["replicaCount=2"], "with replicaCount > 1 use archive.type=postgresql"),
    (["archive.type=postgresql"], "archive.postgresql.urlSecret is required"),
])
def test_archive_layouts_that_cannot_work_are_refused(helm: Helm, values: list[str], message: str) -> None:
    result = helm.run("template", "kubatch", str(CHART), *[f for v in values for f in ("--set", v)], check=False)
    assert result.returncode != 0 and message in result.stderr, result.stderr


def test_retention_and_archive_values(helm: Helm) -> None:
    main = container(helm.template("--set", "finishedJobRetention=6h", "--set", "archive.sqlite.existingClaim=mine"))
    assert "--finished-job-retention=6h" in main["args"]
    docs = helm.template("--set", "archive.sqlite.existingClaim=mine")
    (deployment,) = by_kind(docs, "Deployment")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["archive"]["persistentVolumeClaim"] == {"claimName": "mine"}
    assert not by_kind(docs, "PersistentVolumeClaim")
    # no archive: nothing is ever deleted, so no retention flag and no archive anywhere
    main = container(helm.template("--set", "archive.type=none"))
    assert not [arg for arg in main["args"] if "retention" in arg]
    assert not [env for env in main["env"] if env["name"] == "KUBATCH_ARCHIVE_URL"]


def test_json_logs_and_the_grafana_dashboard(helm: Helm) -> None:
    docs = helm.template("--set", "logFormat=json", "--set", "grafanaDashboard.enabled=true",
                         "--set", "api.enabled=true", "--set", "api.credentialsSecret=keys", "--set", "archive.type=none")
    for deployment in by_kind(docs, "Deployment"):
        assert "--log-format=json" in deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    config_map = one(docs, "ConfigMap", "kubatch-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config_map["data"]["kubatch.json"])
    assert dashboard["uid"] == "kubatch" and dashboard["panels"]
    # every series a panel queries is one the operator exports (histograms add _bucket)
    exported = {family.name for collector in vars(metrics).values()
                if isinstance(collector, MetricWrapperBase) for family in collector.describe()}
    queried = {name.removesuffix("_bucket").removesuffix("_total") for panel in dashboard["panels"]
               for target in panel["targets"] for name in re.findall(r"kubatch_[a-z_]+", target["expr"])}
    assert queried == exported, queried ^ exported  # every metric shown, none made up
    assert not by_kind(helm.template(), "ConfigMap")


@pytest.mark.parametrize("bad", [
    "replicaCount=6",            # a handful of followers is plenty
    "logLevel=trace",
    "watchNamespaces={Not_A_Namespace}",
    "metrics.port=8081",         # the health port
    "imagee.tag=x",              # a misspelt key is refused, not ignored
    "api.accountId=12",          # AWS account ids have 12 digits
    "api.colour=blue",
    "logFormat=xml",
    "finishedJobRetention=1w",   # s, m, h or d
    "archive.type=mysql",
])
def test_values_schema_refuses(helm: Helm, bad: str) -> None:
    result = helm.run("template", "kubatch", str(CHART), "--set", bad, check=False)
    assert result.returncode != 0 and "schema" in result.stderr.lower(), result.stderr


# --- against the real apiserver ------------------------------------------------------


@pytest.fixture(scope="module")
def crds_installed(kubectl: Kubectl) -> None:
    kubectl.run("apply", "--server-side", "--force-conflicts", "-f", str(CRDS))
    kubectl.run("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")


@pytest.fixture
def extra_namespace(kubectl: Kubectl) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:8]}"
    kubectl.run("create", "namespace", name)
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


def dry_run(kubectl: Kubectl, docs: list[dict[str, Any]]) -> str:
    result = kubectl.run("apply", "--dry-run=server", "-f", "-",
                         stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))
    return result.stdout + result.stderr


def test_default_render_passes_server_dry_run(helm: Helm, kubectl: Kubectl, crds_installed: None,
                                              namespace: str) -> None:
    docs = helm.template(namespace=namespace)
    out = dry_run(kubectl, docs)
    assert out.count("(server dry run)") == len(docs), out
    assert "Warning" not in out, out


def test_watch_namespaces_render_passes_server_dry_run(helm: Helm, kubectl: Kubectl, crds_installed: None,
                                                       namespace: str, extra_namespace: str) -> None:
    docs = helm.template("--set", f"watchNamespaces={{{extra_namespace}}}", namespace=namespace)
    out = dry_run(kubectl, docs)
    assert "rolebinding.rbac.authorization.k8s.io/kubatch-jobs created (server dry run)" in out, out
    assert out.count("(server dry run)") == len(docs), out


def test_operator_pod_is_admitted_under_restricted_pod_security(helm: Helm, kubectl: Kubectl,
                                                                  namespace: str) -> None:
    kubectl.run("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    # Pod admission looks the ServiceAccount up; a fresh namespace gets its default one
    # from the controller-manager a moment later.
    kubectl.wait_for("the default ServiceAccount", lambda: kubectl.get("serviceaccount", "default", namespace=namespace))
    (deployment,) = by_kind(helm.template(namespace=namespace), "Deployment")
    template = deployment["spec"]["template"]
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "operator", "namespace": namespace, **template["metadata"]},
           "spec": template["spec"] | {"serviceAccountName": "default"}}
    dry_run(kubectl, [pod])
    # Control: the same pod without its security context is refused, so the check above
    # is Pod Security admission at work and not an apiserver that admits anything.
    bare = json.loads(json.dumps(pod))
    del bare["spec"]["securityContext"], bare["spec"]["containers"][0]["securityContext"]
    refused = kubectl.run("apply", "--dry-run=server", "-f", "-", stdin=json.dumps(bare), check=False)
    assert refused.returncode != 0 and "violates PodSecurity" in refused.stderr, refused.stderr


def test_helm_install_grants_what_the_operator_needs_and_no_more(
        helm: Helm, kubectl: Kubectl, crds_installed: None, namespace: str, extra_namespace: str) -> None:
    release = f"kb-{uuid.uuid4().hex[:6]}"
    fullname = f"{release}-kubatch"
    kube = ["--kubeconfig", str(kubectl.kubeconfig)]
    # The operator pod must not land on the kwok pools other tests measure: a node
    # selector nothing matches keeps it Pending. The people-facing roles have fixed
    # names, so they are left to the dry-run tests.
    helm.run("install", release, str(CHART), *kube, "--namespace", namespace,
             "--set", f"watchNamespaces={{{extra_namespace}}}",
             "--set", "nodeSelector.kubatch\\.io/chart-test=unschedulable",
             "--set", "rbac.userRoles.create=false")
    try:
        status = json.loads(helm.run("status", release, *kube, "--namespace", namespace, "-o", "json").stdout)
        assert status["info"]["status"] == "deployed"
        assert kubectl.get("deployment", fullname, namespace=namespace)
        assert kubectl.get("service", f"{fullname}-metrics", namespace=namespace)

        account = f"system:serviceaccount:{namespace}:{fullname}"

        def can(verb: str, resource: str, ns: str | None = None) -> bool:
            # "pods/log" would be read as the pod named "log": subresources go separately.
            resource, _, sub = resource.partition("/")
            args = [*(["-n", ns] if ns else []), *(["--subresource", sub] if sub else [])]
            result = kubectl.run("auth", "can-i", verb, resource, *args, "--as", account, check=False)
            return result.stdout.strip() == "yes"

        watched, other = extra_namespace, "kube-system"
        assert can("create", "pods", watched) and can("delete", "pods", watched)
        assert can("get", "pods", watched) and can("get", "pods/log", watched)
        assert can("patch", "batchjobs.kubatch.io", watched)
        assert can("update", "batchjobs.kubatch.io/status", watched)
        assert can("create", "services", watched)
        assert can("watch", "jobqueues.kubatch.io") and can("patch", "computeenvironments.kubatch.io/status")
        assert can("list", "nodes") and can("watch", "namespaces")
        assert can("create", "events", watched) and can("create", "events.events.k8s.io", namespace)
        assert can("create", "leases.coordination.k8s.io", namespace)
        # ... and nothing beyond.
        assert not can("create", "pods", other) and not can("list", "pods", other)
        assert not can("create", "batchjobs.kubatch.io", watched)
        assert not can("update", "batchjobs.kubatch.io", watched)
        assert not can("delete", "computeenvironments.kubatch.io")
        assert not can("get", "secrets", watched) and not can("list", "secrets", namespace)
        assert not can("patch", "pods", watched)
        assert not can("delete", "nodes")
        assert not can("create", "leases.coordination.k8s.io", watched)
        assert not can("create", "customresourcedefinitions.apiextensions.k8s.io")
    finally:
        helm.run("uninstall", release, *kube, "--namespace", namespace, check=False)
    # Cluster-scoped objects go with the release.
    assert kubectl.get("clusterrole", fullname) is None
    assert kubectl.get("clusterrolebinding", fullname) is None
