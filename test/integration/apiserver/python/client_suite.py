#!/usr/bin/python3
"""Drives a flatnet API server with the official Kubernetes Python client (Debian's
python3-kubernetes): typed CRUD of the kinds people apply, watch streams with resume and 410,
server-side apply with force and with a stale resourceVersion, paging, the dynamic client's
discovery, and Pod Security refusals.

Usage: client_suite.py KUBECONFIG [CHECK...]
Prints one JSON line per check: {"check": name, "ok": bool, "error": str?}. Exits 0 when every
check passed, 1 otherwise. Runs under /usr/bin/python3, where Debian installs the client.
"""
import json
import sys
import time
import traceback

from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException

PREFIX = "py"


class CheckFailed(AssertionError):
    pass


def expect(cond, what):
    if not cond:
        raise CheckFailed(what)


def api_error(fn, *args, **kwargs):
    """Calls fn and returns the ApiException it raises (fails when it raises none)."""
    try:
        fn(*args, **kwargs)
    except ApiException as e:
        return e
    raise CheckFailed("%s did not fail" % getattr(fn, "__name__", fn))


def status_message(e):
    try:
        return json.loads(e.body).get("message", "")
    except (TypeError, ValueError):
        return str(e.body)


def meta(name, namespace=None, labels=None):
    m = {"name": name, "labels": dict(labels or {}, suite=PREFIX)}
    if namespace:
        m["namespace"] = namespace
    return m


POD_SPEC = {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}]}
TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": POD_SPEC}


def kinds(ns):
    """(api class, snake kind, namespaced, body, model class, a field read back) per kind."""
    selector = {"matchLabels": {"app": "web"}}
    return [
        (client.CoreV1Api, "namespace", False, {"metadata": meta(PREFIX + "-crud-ns")}, client.V1Namespace),
        (client.CoreV1Api, "pod", True, {"metadata": meta("p", ns), "spec": POD_SPEC}, client.V1Pod),
        (client.CoreV1Api, "service", True, {"metadata": meta("svc", ns), "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}, client.V1Service),
        (client.CoreV1Api, "config_map", True, client.V1ConfigMap(metadata=client.V1ObjectMeta(**meta("cm", ns)), data={"k": "v"}), client.V1ConfigMap),
        (client.CoreV1Api, "secret", True, {"metadata": meta("s", ns), "type": "Opaque", "stringData": {"password": "hunter2"}}, client.V1Secret),
        (client.CoreV1Api, "service_account", True, {"metadata": meta("sa", ns)}, client.V1ServiceAccount),
        (client.AppsV1Api, "deployment", True, {"metadata": meta("d", ns), "spec": {"replicas": 2, "selector": selector, "template": TEMPLATE}}, client.V1Deployment),
        (client.AppsV1Api, "stateful_set", True, {"metadata": meta("ss", ns), "spec": {"serviceName": "svc", "replicas": 1, "selector": selector, "template": TEMPLATE}}, client.V1StatefulSet),
        (client.AppsV1Api, "daemon_set", True, {"metadata": meta("ds", ns), "spec": {"selector": selector, "template": TEMPLATE}}, client.V1DaemonSet),
        (client.AppsV1Api, "replica_set", True, {"metadata": meta("rs", ns), "spec": {"replicas": 0, "selector": selector, "template": TEMPLATE}}, client.V1ReplicaSet),
        (client.BatchV1Api, "job", True, {"metadata": meta("j", ns), "spec": {"template": {"spec": dict(POD_SPEC, restartPolicy="Never")}}}, client.V1Job),
        (client.BatchV1Api, "cron_job", True, {"metadata": meta("cj", ns), "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {"spec": dict(POD_SPEC, restartPolicy="OnFailure")}}}}}, client.V1CronJob),
        (client.NetworkingV1Api, "ingress", True, {"metadata": meta("ing", ns), "spec": {"rules": [{"host": "a.example", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "svc", "port": {"number": 80}}}}]}}]}}, client.V1Ingress),
        (client.NetworkingV1Api, "network_policy", True, {"metadata": meta("np", ns), "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 80}]}]}}, client.V1NetworkPolicy),
        (client.NetworkingV1Api, "ingress_class", False, {"metadata": meta(PREFIX + "-class"), "spec": {"controller": "example.com/ingress"}}, client.V1IngressClass),
        (client.RbacAuthorizationV1Api, "role", True, {"metadata": meta("r", ns), "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}, client.V1Role),
        (client.RbacAuthorizationV1Api, "role_binding", True, {"metadata": meta("rb", ns), "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"}, "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": ns}]}, client.V1RoleBinding),
        (client.RbacAuthorizationV1Api, "cluster_role", False, {"metadata": meta(PREFIX + "-cr"), "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]}, client.V1ClusterRole),
        (client.RbacAuthorizationV1Api, "cluster_role_binding", False, {"metadata": meta(PREFIX + "-crb"), "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": PREFIX + "-cr"}, "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": ns}]}, client.V1ClusterRoleBinding),
        (client.PolicyV1Api, "pod_disruption_budget", True, {"metadata": meta("pdb", ns), "spec": {"minAvailable": 1, "selector": selector}}, client.V1PodDisruptionBudget),
        (client.DiscoveryV1Api, "endpoint_slice", True, {"metadata": meta("es", ns), "addressType": "IPv4", "endpoints": [{"addresses": ["10.244.0.5"]}], "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}, client.V1EndpointSlice),
        (client.EventsV1Api, "event", True, {"metadata": meta("ev", ns), "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "example.com/py-suite", "reportingInstance": "py-suite-1", "action": "Checked", "reason": "Checked", "type": "Normal", "note": "typed CRUD", "regarding": {"kind": "Pod", "namespace": ns, "name": "p"}}, client.EventsV1Event),
        (client.CoordinationV1Api, "lease", True, {"metadata": meta("l", ns), "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}}, client.V1Lease),
    ]


class Suite:
    def __init__(self, kubeconfig):
        self.api = config.new_client_from_config(config_file=kubeconfig)
        self.core = client.CoreV1Api(self.api)
        self.ns = PREFIX + "-crud"

    def ensure_namespace(self, name):
        try:
            self.core.create_namespace({"metadata": {"name": name}})
        except ApiException as e:
            if e.status != 409:
                raise

    # ---- discovery ----

    def check_version_and_groups(self):
        v = client.VersionApi(self.api).get_code()
        expect(v.major == "1" and v.minor == "32", "server version %s.%s" % (v.major, v.minor))
        core = client.CoreApi(self.api).get_api_versions()
        expect(core.versions == ["v1"], "core versions %s" % core.versions)
        groups = {g.name: g for g in client.ApisApi(self.api).get_api_versions().groups}
        for g in ["apps", "batch", "networking.k8s.io", "rbac.authorization.k8s.io", "policy", "discovery.k8s.io", "events.k8s.io", "coordination.k8s.io", "apiextensions.k8s.io"]:
            expect(g in groups, "group %s in /apis (have %s)" % (g, sorted(groups)))
            expect(groups[g].preferred_version.version == "v1", "%s prefers v1" % g)
        resources = client.AppsV1Api(self.api).get_api_resources()
        names = {r.name: r for r in resources.resources}
        expect("deployments/scale" in names and "deployments/status" in names, "apps/v1 lists the deployment subresources")
        expect(names["deployments"].namespaced and "create" in names["deployments"].verbs, "deployments are namespaced and creatable")

    def check_dynamic_discovery(self):
        dyn = dynamic.DynamicClient(self.api)
        for api_version, kind, namespaced in [("v1", "Pod", True), ("v1", "Namespace", False), ("apps/v1", "StatefulSet", True), ("batch/v1", "CronJob", True), ("networking.k8s.io/v1", "NetworkPolicy", True), ("rbac.authorization.k8s.io/v1", "ClusterRole", False), ("apiextensions.k8s.io/v1", "CustomResourceDefinition", False)]:
            res = dyn.resources.get(api_version=api_version, kind=kind)
            expect(res.namespaced == namespaced, "%s/%s namespaced=%s" % (api_version, kind, res.namespaced))
        found = dyn.resources.search(kind="Deployment")
        expect(any(r.group_version == "apps/v1" for r in found), "search finds apps/v1 Deployment")
        nodes = dyn.resources.get(api_version="v1", kind="Namespace").get()
        expect(any(n.metadata.name == "default" for n in nodes.items), "the dynamic client lists namespaces")
        # A custom resource appears in discovery once its CRD is served.
        crds = client.ApiextensionsV1Api(self.api)
        crd = {
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wg"]},
                "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}],
            },
        }
        created = crds.create_custom_resource_definition(crd)
        expect(isinstance(created, client.V1CustomResourceDefinition), "a typed CRD comes back")
        deadline = time.time() + 20
        while True:
            got = crds.read_custom_resource_definition("widgets.example.com")
            established = any(c.type == "Established" and c.status == "True" for c in (got.status.conditions or []))
            if established or time.time() > deadline:
                break
            time.sleep(0.2)
        expect(established, "the CRD becomes Established")
        dyn = dynamic.DynamicClient(self.api)
        widgets = dyn.resources.get(api_version="example.com/v1", kind="Widget")
        self.ensure_namespace(self.ns)
        widgets.create(body={"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}}, namespace=self.ns)
        custom = client.CustomObjectsApi(self.api)
        w = custom.get_namespaced_custom_object("example.com", "v1", self.ns, "widgets", "w1")
        expect(w["spec"]["size"] == 3, "the custom object reads back")
        bad = api_error(custom.create_namespaced_custom_object, "example.com", "v1", self.ns, "widgets", {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w2"}, "spec": {"size": "big"}})
        expect(bad.status == 422, "a wrongly typed custom object is refused with 422, got %s %s" % (bad.status, bad.body))
        custom.delete_namespaced_custom_object("example.com", "v1", self.ns, "widgets", "w1")
        crds.delete_custom_resource_definition("widgets.example.com")

    # ---- typed CRUD ----

    def check_typed_crud(self):
        self.ensure_namespace(self.ns)
        for api_class, kind, namespaced, body, model in kinds(self.ns):
            self.crud(api_class(self.api), kind, namespaced, body, model)

    def crud(self, api, kind, namespaced, body, model):
        where = (lambda name: {"name": name, "namespace": self.ns}) if namespaced else (lambda name: {"name": name})
        scope = "namespaced_" if namespaced else ""
        call = lambda verb, *args, **kw: getattr(api, "%s_%s%s" % (verb, scope, kind))(*args, **kw)
        name = body.metadata.name if hasattr(body, "metadata") and not isinstance(body, dict) else body["metadata"]["name"]
        label = "%s %s" % (kind, name)
        created = call("create", self.ns, body) if namespaced else call("create", body)
        expect(isinstance(created, model), "%s: create answers a %s, not %s" % (label, model.__name__, type(created).__name__))
        expect(created.metadata.uid and created.metadata.resource_version, "%s: uid and resourceVersion are set" % label)
        read = call("read", **where(name))
        expect(isinstance(read, model) and read.metadata.uid == created.metadata.uid, "%s: read answers the created object" % label)
        listed = call("list", self.ns, label_selector="suite=%s" % PREFIX) if namespaced else call("list", label_selector="suite=%s" % PREFIX)
        expect(name in [i.metadata.name for i in listed.items], "%s: the label-selected list holds it" % label)
        expect(all(isinstance(i, model) for i in listed.items), "%s: list items are typed" % label)
        patched = call("patch", body={"metadata": {"labels": {"patched": "yes"}}}, **where(name))
        expect(patched.metadata.labels.get("patched") == "yes", "%s: a strategic merge patch sets a label" % label)
        current = call("read", **where(name))
        current.metadata.annotations = {"replaced": "yes"}
        replaced = call("replace", body=current, **where(name))
        expect(replaced.metadata.annotations.get("replaced") == "yes", "%s: replace stores the change" % label)
        expect(replaced.metadata.resource_version != current.metadata.resource_version, "%s: replace moves the resourceVersion" % label)
        current.metadata.annotations = {"replaced": "stale"}
        stale = api_error(call, "replace", body=current, **where(name))
        expect(stale.status == 409, "%s: a replace with a stale resourceVersion is 409, got %s" % (label, stale.status))
        call("delete", **where(name))
        if kind == "namespace":
            gone = call("read", **where(name))
            expect(gone.status.phase == "Terminating", "namespace %s is Terminating after delete" % name)
            return
        missing = api_error(call, "read", **where(name))
        expect(missing.status == 404, "%s: read after delete is 404, got %s" % (label, missing.status))

    def check_delete_answers(self):
        self.ensure_namespace(self.ns)
        self.core.create_namespaced_config_map(self.ns, {"metadata": {"name": "gone"}})
        st = self.core.delete_namespaced_config_map("gone", self.ns)
        expect(st.status == "Success" and st.details.name == "gone" and st.details.kind == "configmaps", "deleting a ConfigMap answers a Success Status: %s" % st)
        e = api_error(self.core.delete_namespaced_config_map, "gone", self.ns)
        expect(e.status == 404 and json.loads(e.body)["reason"] == "NotFound", "a second delete is 404 NotFound")

    def check_bad_input(self):
        self.ensure_namespace(self.ns)
        e = api_error(self.core.create_namespaced_config_map, self.ns, {"metadata": {"name": "Bad_Name"}})
        expect(e.status == 422 and "metadata.name" in status_message(e), "an invalid name is 422 naming metadata.name: %s" % status_message(e))
        e = api_error(client.AppsV1Api(self.api).create_namespaced_deployment, self.ns, {"metadata": {"name": "typed"}, "spec": {"replicas": "three", "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": POD_SPEC}}})
        expect(e.status == 400 and "replicas" in status_message(e), "a string replicas is 400 naming the field: %s" % status_message(e))

    def check_paging(self):
        self.ensure_namespace(self.ns)
        for i in range(7):
            self.core.create_namespaced_config_map(self.ns, {"metadata": {"name": "page-%d" % i, "labels": {"paged": "yes"}}})
        names, token, pages = [], None, 0
        while True:
            page = self.core.list_namespaced_config_map(self.ns, label_selector="paged=yes", limit=3, _continue=token)
            pages += 1
            names += [i.metadata.name for i in page.items]
            token = page.metadata._continue
            if not token:
                break
        expect(names == ["page-%d" % i for i in range(7)], "paging returns every object once, in order: %s" % names)
        expect(pages == 3, "7 objects in pages of 3 take 3 pages, took %d" % pages)

    # ---- watch ----

    def check_watch_resume(self):
        ns = PREFIX + "-watch"
        self.ensure_namespace(ns)
        rv0 = self.core.list_namespaced_config_map(ns).metadata.resource_version
        for n in ["a", "b", "c"]:
            self.core.create_namespaced_config_map(ns, {"metadata": {"name": n}, "data": {"v": "1"}})
        w = watch.Watch()
        seen = []
        for ev in w.stream(self.core.list_namespaced_config_map, ns, resource_version=rv0, timeout_seconds=10):
            expect(isinstance(ev["object"], client.V1ConfigMap), "watch events carry typed objects")
            seen.append((ev["type"], ev["object"].metadata.name))
            if len(seen) == 3:
                w.stop()
        expect(seen == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c")], "the watch from the list's resourceVersion sees the three creates in order: %s" % seen)
        resume_at = w.resource_version
        self.core.patch_namespaced_config_map("a", ns, {"data": {"v": "2"}})
        self.core.delete_namespaced_config_map("b", ns)
        w2 = watch.Watch()
        later = []
        for ev in w2.stream(self.core.list_namespaced_config_map, ns, resource_version=resume_at, timeout_seconds=10):
            later.append((ev["type"], ev["object"].metadata.name, (ev["object"].data or {}).get("v")))
            if len(later) == 2:
                w2.stop()
        expect(later == [("MODIFIED", "a", "2"), ("DELETED", "b", "1")], "resuming from the last resourceVersion sees only what came after: %s" % later)

    def check_watch_expired(self):
        ns = PREFIX + "-expire"
        self.ensure_namespace(ns)
        self.core.create_namespaced_config_map(ns, {"metadata": {"name": "busy"}, "data": {"n": "0"}})
        old = self.core.list_namespaced_config_map(ns).metadata.resource_version
        # The server keeps a bounded history (the test starts it with --watch-history 50).
        for i in range(1, 120):
            self.core.patch_namespaced_config_map("busy", ns, {"data": {"n": str(i)}})
        try:
            for _ in watch.Watch().stream(self.core.list_namespaced_config_map, ns, resource_version=old, timeout_seconds=5):
                raise CheckFailed("a watch from an expired resourceVersion yielded an event")
            raise CheckFailed("a watch from an expired resourceVersion ended without an error")
        except ApiException as e:
            expect(e.status == 410, "an expired resourceVersion ends the watch with 410, got %s" % e.status)
        # Recovery as the client's docs say: list again and watch from there.
        fresh = self.core.list_namespaced_config_map(ns)
        expect(fresh.items[0].data["n"] == "119", "the relist sees the latest state")
        self.core.patch_namespaced_config_map("busy", ns, {"data": {"n": "final"}})
        w = watch.Watch()
        for ev in w.stream(self.core.list_namespaced_config_map, ns, resource_version=fresh.metadata.resource_version, timeout_seconds=10):
            expect(ev["type"] == "MODIFIED" and ev["object"].data["n"] == "final", "the new watch sees the next change: %s %s" % (ev["type"], ev["object"].data))
            w.stop()

    # ---- server-side apply ----

    def check_server_side_apply(self):
        self.ensure_namespace(self.ns)
        dyn = dynamic.DynamicClient(self.api)
        cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
        doc = lambda value, **metadata: json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": dict({"name": "applied", "namespace": self.ns}, **metadata), "data": {"owner": value}})
        first = cms.server_side_apply(body=doc("a"), name="applied", namespace=self.ns, field_manager="py-a")
        expect(first.data.owner == "a", "the first apply creates the object")
        conflict = api_error(cms.server_side_apply, body=doc("b"), name="applied", namespace=self.ns, field_manager="py-b")
        expect(conflict.status == 409, "a second manager changing an owned field conflicts, got %s" % conflict.status)
        expect('conflict with "py-a"' in status_message(conflict), "the conflict names the owner: %s" % status_message(conflict))
        forced = cms.server_side_apply(body=doc("b"), name="applied", namespace=self.ns, field_manager="py-b", force_conflicts=True)
        expect(forced.data.owner == "b", "force=True takes the field over")
        managers = {m.manager: m.operation for m in forced.metadata.managedFields}
        expect(managers.get("py-b") == "Apply", "py-b owns the field by Apply: %s" % managers)
        stale = api_error(cms.server_side_apply, body=doc("c", resourceVersion=first.metadata.resourceVersion), name="applied", namespace=self.ns, field_manager="py-b", force_conflicts=True)
        expect(stale.status == 409, "an apply carrying a stale resourceVersion is a 409 precondition failure, got %s" % stale.status)
        current = self.core.read_namespaced_config_map("applied", self.ns)
        expect(current.data["owner"] == "b", "the stale apply changed nothing")
        fresh = cms.server_side_apply(body=doc("c", resourceVersion=current.metadata.resource_version), name="applied", namespace=self.ns, field_manager="py-b")
        expect(fresh.data.owner == "c", "an apply carrying the current resourceVersion succeeds")

    # ---- admission ----

    def check_pod_security(self):
        pod = {"metadata": {"name": "hostnet"}, "spec": {"hostNetwork": True, "containers": [{"name": "c", "image": "nginx"}]}}
        e = api_error(self.core.create_namespaced_pod, "default", pod)
        expect(e.status == 403, "a hostNetwork pod in default is 403, got %s" % e.status)
        expect(status_message(e) == 'pods "hostnet" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)', status_message(e))


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    suite = Suite(argv[1])
    checks = [m[len("check_"):] for m in dir(Suite) if m.startswith("check_")]
    wanted = argv[2:] or checks
    unknown = [c for c in wanted if c not in checks]
    if unknown:
        sys.stderr.write("unknown checks %s; checks are %s\n" % (unknown, checks))
        return 2
    failed = 0
    for name in wanted:
        try:
            getattr(suite, "check_" + name)()
            print(json.dumps({"check": name, "ok": True}), flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported, the run goes on
            failed += 1
            detail = status_message(e) if isinstance(e, ApiException) else ""
            print(json.dumps({"check": name, "ok": False, "error": "%s: %s %s" % (type(e).__name__, e, detail), "trace": traceback.format_exc()}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
