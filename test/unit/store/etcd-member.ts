// A real single-member etcd (Debian's etcd-server, /usr/bin/etcd) for tests: 127.0.0.1 on free
// ports, its own 0700 data dir, stopped by PID. A missing binary fails the test with the reason.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ETCD_BINARY = process.env.FLATNET_ETCD ?? '/usr/bin/etcd';

export interface EtcdMember {
  url: string;
  pid: number;
  stop(): Promise<void>;
  logs(): string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startEtcd(): Promise<EtcdMember> {
  if (!existsSync(ETCD_BINARY)) {
    throw new Error(`${ETCD_BINARY} is missing: these tests need a real etcd (apt-get install etcd-server, or run scripts/ensure-deps)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-etcd-')); // mkdtemp makes it 0700
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const out: string[] = [];
  const child: ChildProcess = spawn(
    ETCD_BINARY,
    [
      '--name', 'test',
      '--data-dir', join(dir, 'data'),
      '--listen-client-urls', url,
      '--advertise-client-urls', url,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `test=${peerUrl}`,
      '--log-level', 'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (c: Buffer) => out.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => out.push(c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  // A test process that dies without stop() (an uncaught error) still takes its etcd along.
  const killOnExit = () => child.pid && !gone && process.kill(child.pid, 'SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => {
    gone = true;
    process.off('exit', killOnExit);
  });
  const stop = async () => {
    if (!gone && child.pid) process.kill(child.pid, 'SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (gone) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`etcd exited before serving:\n${out.join('')}`);
    }
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok && ((await res.json()) as { health?: string }).health === 'true') break;
    } catch {
      // not listening yet
    }
    if (i > 300) {
      await stop();
      throw new Error(`etcd did not become healthy within 30 s:\n${out.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, pid: child.pid!, stop, logs: () => out.join('') };
}
