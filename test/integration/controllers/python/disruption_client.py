#!/usr/bin/python3
"""PodDisruptionBudgets, pods/eviction and events.k8s.io/v1 through the official Kubernetes Python
client (Debian's python3-kubernetes): typed CRUD of a budget, an eviction refused with 429 and
the DisruptionBudget cause, then allowed; an events.k8s.io/v1 Event written and read back typed.

Usage: disruption_client.py KUBECONFIG NAMESPACE NODE
Needs pods bound to NODE to become Running and Ready (a node agent, or the tests' fake kubelet).
Prints one JSON line per check: {"check": name, "ok": bool, "error": str?}; exits 1 on a failure.
"""
import datetime
import json
import sys
import time
import traceback

from kubernetes import client, config
from kubernetes.client.rest import ApiException


class CheckFailed(AssertionError):
    pass


def expect(cond, what):
    if not cond:
        raise CheckFailed(what)


def until(what, fn, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise CheckFailed("timed out waiting for %s" % what)


class Suite:
    def __init__(self, kubeconfig, namespace, node):
        config.load_kube_config(config_file=kubeconfig)
        self.core = client.CoreV1Api()
        self.policy = client.PolicyV1Api()
        self.events = client.EventsV1Api()
        self.ns = namespace
        self.node = node

    def check_budget_crud(self):
        body = client.V1PodDisruptionBudget(
            metadata=client.V1ObjectMeta(name="py-budget"),
            spec=client.V1PodDisruptionBudgetSpec(min_available=1, selector=client.V1LabelSelector(match_labels={"app": "py"})),
        )
        created = self.policy.create_namespaced_pod_disruption_budget(self.ns, body)
        expect(created.spec.min_available == 1, "minAvailable read back")
        expect(created.status.disruptions_allowed == 0, "a new budget has typed zero counts")
        listed = self.policy.list_namespaced_pod_disruption_budget(self.ns)
        expect([b.metadata.name for b in listed.items] == ["py-budget"], "listed")
        bad = client.V1PodDisruptionBudget(
            metadata=client.V1ObjectMeta(name="py-bad"),
            spec=client.V1PodDisruptionBudgetSpec(min_available=1, max_unavailable="10%"),
        )
        try:
            self.policy.create_namespaced_pod_disruption_budget(self.ns, bad)
            raise CheckFailed("a budget with minAvailable and maxUnavailable was accepted")
        except ApiException as e:
            expect(e.status == 422, "422 for both set, got %s" % e.status)
            expect("minAvailable and maxUnavailable cannot be both set" in e.body, e.body)

    def check_eviction(self):
        pod = client.V1Pod(
            metadata=client.V1ObjectMeta(name="py-pod", labels={"app": "py"}),
            spec=client.V1PodSpec(node_name=self.node, containers=[client.V1Container(name="c", image="nginx")]),
        )
        self.core.create_namespaced_pod(self.ns, pod)

        def budget_sees_pod():
            b = self.policy.read_namespaced_pod_disruption_budget("py-budget", self.ns)
            return b.status.current_healthy == 1 and b.status.observed_generation == b.metadata.generation and b

        budget = until("budget counts the ready pod", budget_sees_pod)
        expect(budget.status.disruptions_allowed == 0, "minAvailable 1 of 1 allows nothing")
        eviction = client.V1Eviction(metadata=client.V1ObjectMeta(name="py-pod", namespace=self.ns))
        try:
            self.core.create_namespaced_pod_eviction("py-pod", self.ns, eviction)
            raise CheckFailed("the eviction was accepted against the budget")
        except ApiException as e:
            expect(e.status == 429, "429, got %s" % e.status)
            status = json.loads(e.body)
            expect(status["details"]["causes"][0]["reason"] == "DisruptionBudget", e.body)
        self.policy.patch_namespaced_pod_disruption_budget("py-budget", self.ns, {"spec": {"minAvailable": 0}})
        until("one disruption allowed", lambda: self.policy.read_namespaced_pod_disruption_budget("py-budget", self.ns).status.disruptions_allowed == 1)
        self.core.create_namespaced_pod_eviction("py-pod", self.ns, eviction)

        def gone():
            try:
                p = self.core.read_namespaced_pod("py-pod", self.ns)
                return p.metadata.deletion_timestamp is not None
            except ApiException as e:
                return e.status == 404

        until("the evicted pod going", gone)
        self.policy.delete_namespaced_pod_disruption_budget("py-budget", self.ns)

    def check_events_v1(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        ev = client.EventsV1Event(
            metadata=client.V1ObjectMeta(name="py-event"),
            event_time=now,
            reporting_controller="example.com/py",
            reporting_instance="py-1",
            action="Check",
            reason="Checked",
            type="Normal",
            note="from python",
            regarding=client.V1ObjectReference(kind="Pod", name="py-pod", namespace=self.ns),
        )
        created = self.events.create_namespaced_event(self.ns, ev)
        expect(created.note == "from python" and created.regarding.name == "py-pod", "created typed")
        read = self.events.read_namespaced_event("py-event", self.ns)
        expect(read.reporting_controller == "example.com/py", "read back")
        core = self.core.read_namespaced_event("py-event", self.ns)
        expect(core.message == "from python" and core.involved_object.name == "py-pod", "the same Event through core/v1")
        listed = self.events.list_namespaced_event(self.ns, field_selector="metadata.name=py-event")
        expect([e.metadata.name for e in listed.items] == ["py-event"], "listed with a field selector")
        self.events.delete_namespaced_event("py-event", self.ns)


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    suite = Suite(argv[1], argv[2], argv[3])
    failed = False
    for name in ["budget_crud", "eviction", "events_v1"]:
        try:
            getattr(suite, "check_" + name)()
            print(json.dumps({"check": name, "ok": True}), flush=True)
        except Exception as e:  # one line per check, whatever failed
            failed = True
            detail = str(e) if isinstance(e, CheckFailed) else traceback.format_exc()
            print(json.dumps({"check": name, "ok": False, "error": detail}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
