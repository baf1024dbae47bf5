// What `up --ha` writes before the supervisor starts anything: the etcd cluster's PKI (0600 files
// in 0700 directories), and the secrets every API server of the cluster must share — the cluster
// CA, the admin token and the ServiceAccount and proxy token signing keys — made once in the first
// server's data directory by the server's own functions and copied into the others'. (Without the
// lab, this is the manual copy the README describes for servers on separate machines.)
import { copyFileSync, mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { writePrivateFile } from '../agent/tls-bootstrap.js';
import { ensureServingCertificate, servingNames } from '../apiserver/tls.js';
import { ensureAdminToken } from '../apiserver/auth.js';
import { ensureSigningKey } from '../apiserver/rbac/serviceaccount-token.js';
import { ensureProxyTokenKey } from '../gateway/proxy-identity.js';
import { createEtcdPki } from './ha-etcd-pki.js';
import { SHARED_SERVER_FILES, type HaPlan } from './ha-plan.js';
import { LAB_GATEWAY } from './plan.js';

export function writeEtcdPki(ha: HaPlan): void {
  mkdirSync(ha.etcd.dir, { recursive: true, mode: 0o700 });
  const pki = createEtcdPki(ha.etcd.members.map((m) => ({ name: m.name, ip: m.ip })));
  // Only the CA's certificate is written: its key is not needed once the certificates exist.
  writePrivateFile(ha.etcd.caFile, pki.ca.certPem);
  for (const m of ha.etcd.members) {
    const pair = pki.members.get(m.name)!;
    writePrivateFile(m.certFile, pair.certPem);
    writePrivateFile(m.keyFile, pair.keyPem);
  }
  writePrivateFile(ha.etcd.clientCertFile, pki.apiserverClient.certPem);
  writePrivateFile(ha.etcd.clientKeyFile, pki.apiserverClient.keyPem);
}

export function writeSharedServerSecrets(ha: HaPlan): void {
  const [first, ...others] = ha.servers;
  mkdirSync(first.dataDir, { recursive: true, mode: 0o700 });
  // The serving certificate for the first server's names, so it does not issue another at start.
  ensureServingCertificate(first.dataDir, servingNames([first.listen.split(':')[0], LAB_GATEWAY]));
  ensureAdminToken(first.dataDir);
  ensureSigningKey(first.dataDir);
  ensureProxyTokenKey(first.dataDir);
  for (const s of others) {
    mkdirSync(s.dataDir, { recursive: true, mode: 0o700 });
    for (const f of SHARED_SERVER_FILES) copyFileSync(join(first.dataDir, f), join(s.dataDir, f));
  }
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createConnection({ host, port });
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => done(false));
  });
}

/** host:port pairs the HA lab needs that another program already listens on. */
export async function haAddressesInUse(ha: HaPlan): Promise<string[]> {
  const wanted = [
    ...ha.servers.slice(1).map((s) => s.listen),
    ...ha.etcd.members.flatMap((m) => [new URL(m.clientUrl).host, new URL(m.peerUrl).host]),
  ];
  const busy = await Promise.all(wanted.map((hp) => listening(hp.split(':')[0], Number(hp.split(':')[1]))));
  return wanted.filter((_, i) => busy[i]);
}

/** Writes the etcd PKI and the servers' shared secrets; says what the HA lab runs. */
export function prepareHaLab(ha: HaPlan, print: (line: string) => void): void {
  writeEtcdPki(ha);
  writeSharedServerSecrets(ha);
  print(`HA: etcd members ${ha.etcd.members.map((m) => `${m.name} ${m.clientUrl}`).join(', ')} (TLS with client certificates, root-namespace loopback only; PKI in ${ha.etcd.pkiDir})`);
  print(`HA: API servers ${ha.servers.map((s) => `${s.name} https://${s.listen} (${s.underlayUrl} on the underlay)`).join(', ')}, sharing one CA and signing keys; agents get both URLs`);
}
