// Real routing daemons (FRR's zebra + bgpd, BIRD 2) in throwaway network namespaces, for the BGP
// tests and bench: each daemon runs in the foreground with its config, pid files and control
// sockets in a private directory (0700), so nothing touches /etc/frr, /run/frr or /run/bird, and
// it is stopped by its own PID.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';

export const FRR_DIR = '/usr/lib/frr';

export function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** Creates `netns` with lo up. */
export function addNetns(netns: string): void {
  ip('netns', 'add', netns);
  ip('-n', netns, 'link', 'set', 'lo', 'up');
}

/** Deletes `netns` if it exists. */
export function deleteNetns(netns: string): void {
  try {
    execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

/** A veth pair from `a` (device `devA`, address `ipA/30`) to `b`, both ends up. */
export function linkNetns(a: { netns: string; dev: string; ip: string }, b: { netns: string; dev: string; ip: string }): void {
  ip('link', 'add', a.dev, 'netns', a.netns, 'type', 'veth', 'peer', 'name', b.dev, 'netns', b.netns);
  for (const end of [a, b]) {
    ip('-n', end.netns, 'addr', 'add', `${end.ip}/30`, 'dev', end.dev);
    ip('-n', end.netns, 'link', 'set', end.dev, 'up');
  }
}

/** A daemon started in the foreground; its stderr/stdout are kept for error messages. */
class Daemon {
  output = '';
  exited = false;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.on('exit', () => (this.exited = true));
  }

  /** SIGTERM by PID, then SIGKILL if it has not gone within 3 s. */
  async stop(): Promise<void> {
    if (this.exited || this.child.pid === undefined) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }
}

function privateDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  chmodSync(dir, 0o700);
  return dir;
}

export interface Frr {
  dir: string;
  /** Runs FRR's own CLI against this instance; the commands run in order (`-c` each). */
  vtysh(...commands: string[]): string;
  stop(): Promise<void>;
}

/**
 * zebra and bgpd in `netns`, configured with `bgpdConfig` (the `router bgp` block and anything
 * else bgpd reads). zebra installs the routes bgpd selects into the namespace's kernel table.
 * The daemons run as the `frr` user (FRR drops to it and keeps the capabilities it needs); the
 * private directory belongs to that user.
 */
export async function startFrr(netns: string, bgpdConfig: string, prefix = 'frr'): Promise<Frr> {
  const dir = privateDir(prefix);
  const frrUser = (() => {
    try {
      const uid = Number(execFileSync('id', ['-u', 'frr'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'frr'], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      throw new Error('the frr user is missing: install the Debian package frr (scripts/ensure-deps does)');
    }
  })();
  writeFileSync(join(dir, 'zebra.conf'), `hostname ${netns}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'bgpd.conf'), bgpdConfig, { mode: 0o600 });
  for (const f of ['', 'zebra.conf', 'bgpd.conf']) chownSync(join(dir, f), frrUser.uid, frrUser.gid);
  const daemons: Daemon[] = [];
  const common = (name: string) => ['-u', 'frr', '-g', 'frr', '-f', join(dir, `${name}.conf`), '-i', join(dir, `${name}.pid`), '-z', join(dir, 'zserv.api'), '--vty_socket', dir, '-A', '127.0.0.1', '-P', '0', '--log', 'stdout'];
  const run = (name: string, extra: string[] = []) => {
    const d = new Daemon(name, spawn('ip', ['netns', 'exec', netns, join(FRR_DIR, name), ...common(name), ...extra], { stdio: ['ignore', 'pipe', 'pipe'] }));
    daemons.push(d);
    return d;
  };
  const vtysh = (...commands: string[]) => execFileSync('vtysh', ['--vty_socket', dir, ...commands.flatMap((c) => ['-c', c])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = async () => {
    for (const d of daemons.reverse()) await d.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const zebra = run('zebra');
    await eventually(`zebra's vty socket (zebra said: ${zebra.output})`, () => !zebra.exited && vtysh('show version').includes('FRRouting'), 10_000);
    const bgpd = run('bgpd');
    await eventually(`bgpd's vty socket (bgpd said: ${bgpd.output})`, () => !bgpd.exited && vtysh('show bgp summary json').trim().startsWith('{'), 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, vtysh, stop };
}

export interface Bird {
  dir: string;
  birdc(...args: string[]): string;
  stop(): Promise<void>;
}

/** BIRD 2 in `netns` with `config`; its control socket in a private directory. */
export async function startBird(netns: string, config: string, prefix = 'bird'): Promise<Bird> {
  const dir = privateDir(prefix);
  const conf = join(dir, 'bird.conf');
  const sock = join(dir, 'bird.ctl');
  writeFileSync(conf, config, { mode: 0o600 });
  const daemon = new Daemon('bird', spawn('ip', ['netns', 'exec', netns, 'bird', '-f', '-c', conf, '-s', sock], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const birdc = (...args: string[]) => execFileSync('birdc', ['-s', sock, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = async () => {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(`BIRD's control socket (bird said: ${daemon.output})`, () => !daemon.exited && birdc('show', 'status').includes('Daemon is up'), 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, birdc, stop };
}
