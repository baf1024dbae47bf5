// The command's flags and the add-on manifest: what `flatnet dns` accepts and refuses, and the
// objects `flatnet up` applies (names, labels, ports and probes consistent with the server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dnsOptionsFromArgs } from '../../../src/dns/main.js';
import { clusterDnsObjects, DNS_HTTP_PORT } from '../../../src/dns/manifest.js';
import { UsageError } from '../../../src/cli/flags.js';
import { parseUpstream } from '../../../src/dns/forward.js';
import { loadCorefile } from '../../../src/dns/corefile/config.js';

test('flags: defaults and every option', () => {
  const d = dnsOptionsFromArgs(['--kubeconfig', 'k']);
  assert.deepEqual(d, { kubeconfig: 'k', listen: { host: '127.0.0.1', port: 53 }, httpListen: undefined, clusterDomain: 'cluster.local', upstreams: [], ttl: 30, pods: 'insecure', corefileFile: undefined, corefileConfigMap: undefined });
  assert.deepEqual(dnsOptionsFromArgs(['--corefile-configmap', 'kube-system/coredns']).corefileConfigMap, { namespace: 'kube-system', name: 'coredns' });
  assert.equal(dnsOptionsFromArgs(['--corefile', '/etc/coredns/Corefile']).corefileFile, '/etc/coredns/Corefile');
  const all = dnsOptionsFromArgs(['--listen', '127.0.0.1:5353', '--http-listen=127.0.0.1:8080', '--cluster-domain', 'corp.example', '--upstream', '10.0.0.2', '--upstream=10.0.0.3:5300,[fd00::2]:53', '--ttl', '5', '--pods', 'disabled']);
  assert.deepEqual(all.listen, { host: '127.0.0.1', port: 5353 });
  assert.deepEqual(all.httpListen, { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(all.upstreams, ['10.0.0.2', '10.0.0.3:5300', '[fd00::2]:53']);
  assert.equal(all.ttl, 5);
  assert.equal(all.pods, 'disabled');
});

test('flags: errors name the flag and say what is expected', () => {
  const cases: [string[], RegExp][] = [
    [['--ttl', '4000'], /ttl 4000 is out of range: use a whole number of seconds from 0 to 3600/],
    [['--ttl', 'x'], /out of range/],
    [['--listen', 'localhost'], /--listen "localhost" is not IP:port/],
    [['--cluster-domain', 'bad_domain!'], /cluster domain "bad_domain!" is not a DNS name/],
    [['--pods', 'secure'], /--pods "secure" must be insecure, verified or disabled/],
    [['--upstream'], /--upstream needs a value/],
    [['--nope'], /unknown flag --nope/],
    [['--corefile-configmap', 'coredns'], /--corefile-configmap "coredns" must be NAMESPACE\/NAME/],
    [['--corefile', 'a', '--corefile-configmap', 'x/y'], /--corefile or --corefile-configmap, not both/],
  ];
  for (const [args, re] of cases) assert.throws(() => dnsOptionsFromArgs(args), (err: Error) => err instanceof UsageError && re.test(err.message), args.join(' '));
  assert.throws(() => parseUpstream('example.com'), /upstream "example.com" is not IP\[:port\]/);
  assert.deepEqual(parseUpstream('[fd00::2]:5353'), { host: 'fd00::2', port: 5353 });
});

test('manifest: ConfigMap, ServiceAccount and its RBAC, Deployment coredns and Service kube-dns as kubeadm shapes them', () => {
  const objs = clusterDnsObjects({ clusterIP: '10.96.0.10', replicas: 2, image: 'flatnet/dns' });
  assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`), [
    'ConfigMap/kube-system/coredns',
    'ServiceAccount/kube-system/coredns',
    'ClusterRole//system:coredns',
    'ClusterRoleBinding//system:coredns',
    'Role/kube-system/coredns-corefile',
    'RoleBinding/kube-system/coredns-corefile',
    'Deployment/kube-system/coredns',
    'Service/kube-system/kube-dns',
  ]);
  const [cm, , role, binding, cfRole, cfBinding, deploy, svc] = objs as Record<string, any>[];
  // kubeadm's system:coredns: list and watch what the kubernetes plugin reads, nothing more.
  assert.deepEqual(role.rules, [
    { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
  ]);
  const subject = [{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }];
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' });
  assert.deepEqual(binding.subjects, subject);
  // the Corefile ConfigMap, read through the API: that one object only.
  assert.deepEqual(cfRole.rules[0], { apiGroups: [''], resources: ['configmaps'], resourceNames: ['coredns'], verbs: ['get', 'list', 'watch'] });
  assert.deepEqual(cfBinding.subjects, subject);
  assert.equal(deploy.spec.template.spec.serviceAccountName, 'coredns');
  assert.notEqual(deploy.spec.template.spec.automountServiceAccountToken, false, 'the pods need their token');
  // the pods follow the ConfigMap's Corefile, which the server accepts as written
  assert.match(cm.data.Corefile, /^\.:53 \{$/m);
  assert.doesNotThrow(() => loadCorefile(cm.data.Corefile));
  assert.deepEqual(deploy.spec.template.spec.volumes[0].configMap, { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] });
  assert.equal(deploy.spec.replicas, 2);
  assert.deepEqual(deploy.spec.selector.matchLabels, { 'k8s-app': 'kube-dns' });
  const pod = deploy.spec.template.spec;
  assert.equal(pod.dnsPolicy, 'Default');
  const c = pod.containers[0];
  assert.equal(c.image, 'flatnet/dns');
  assert.deepEqual(c.ports.map((p: any) => `${p.name}:${p.containerPort}/${p.protocol}`), ['dns:53/UDP', 'dns-tcp:53/TCP', `metrics:${DNS_HTTP_PORT}/TCP`]);
  assert.deepEqual(c.readinessProbe.httpGet, { path: '/ready', port: DNS_HTTP_PORT, scheme: 'HTTP' });
  assert.deepEqual(c.livenessProbe.httpGet, { path: '/health', port: DNS_HTTP_PORT, scheme: 'HTTP' });
  // the container args are flags `flatnet dns` understands
  assert.doesNotThrow(() => dnsOptionsFromArgs(c.args));
  assert.deepEqual(dnsOptionsFromArgs(c.args).corefileConfigMap, { namespace: 'kube-system', name: 'coredns' });
  assert.equal(svc.spec.clusterIP, '10.96.0.10');
  assert.equal(svc.metadata.labels['kubernetes.io/cluster-service'], 'true');
  assert.deepEqual(svc.spec.selector, { 'k8s-app': 'kube-dns' });
  assert.deepEqual(svc.spec.ports.map((p: any) => `${p.name}:${p.port}/${p.protocol}->${p.targetPort}`), ['dns:53/UDP->53', 'dns-tcp:53/TCP->53', 'metrics:9153/TCP->metrics']);
});
