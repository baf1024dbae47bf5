// The workload both BGP lab tests (BIRD and FRR as the lab router) put in namespace `ns`: an nginx
// pod on node-2 behind a LoadBalancer Service, and a busybox client on node-1 (the other segment).

export function lbService(ns: string, policy: 'Local' | 'Cluster'): string {
  return `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}}
spec:
  type: LoadBalancer
  externalTrafficPolicy: ${policy}
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
`;
}

/** The namespace, both pods and the Service with externalTrafficPolicy Local. */
export function bgpWorkload(ns: string): string {
  return `
apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ${ns}, labels: {app: web}}
spec:
  nodeName: node-2
  containers: [{name: nginx, image: nginx:1.27, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${ns}}
spec:
  nodeName: node-1
  containers: [{name: client, image: busybox:1.36, command: [sleep, '3600']}]
---
${lbService(ns, 'Local')}`;
}
