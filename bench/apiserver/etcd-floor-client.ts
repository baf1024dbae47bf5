// Starts bench/apiserver/etcd-floor-server.ts (the bare create-and-watch server on etcd) as a
// child process, for the benches that compare flatnet with it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { KubeClient } from '../../src/client/client.js';
import { createEtcdPki } from '../../src/lab/ha-etcd-pki.js';

export type Floor = Awaited<ReturnType<typeof startFloor>>;

/** Starts etcd-floor-server.ts on `etcd`: its URL, CA and token (for watchers), a client, its pid. */
export async function startFloor(etcdUrl: string, etcdTls: { caPem: string; certPem: string; keyPem: string } | undefined, worker: boolean) {
  const pki = createEtcdPki([{ name: 'floor', ip: '127.0.0.1' }]);
  const member = pki.members.get('floor')!;
  const token = randomBytes(16).toString('hex');
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./etcd-floor-server.ts', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(JSON.stringify({ etcdUrl, etcdTls, serverCertPem: member.certPem, serverKeyPem: member.keyPem, token, worker }));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.once('exit', (code) => reject(new Error(`etcd-floor-server.ts exited with ${code} before listening`)));
  });
  const url = `https://127.0.0.1:${port}`;
  const client = new KubeClient({ server: url, token, ca: Buffer.from(pki.ca.certPem) });
  const stop = () =>
    new Promise<void>((resolve) => {
      client.close();
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { url, ca: pki.ca.certPem, token, client, pid: child.pid!, stop };
}
