// The agnhost test image of the Kubernetes e2e suite, the subcommands the suite's network
// tests use: netexec, serve-hostname, porter, pause, connect. Each serves on sockets inside
// the pod's namespace; connections it makes go out from the pod's namespace too.
import type http from 'node:http';
import type net from 'node:net';
import { bindUdp, connectTcp, runIn, serveHttpInNetns, serveTcpInNetns, serveUdpInNetns, type OpenServer } from './sockets.js';
import { flagBool, flagValue, parseGoFlags, servingWorkload, WorkloadStartError, type RunningWorkload, type WorkloadContext, type WorkloadMain } from './workload.js';
import { runPause } from './pause.js';

export const AGNHOST_SUBCOMMANDS = ['netexec', 'serve-hostname', 'porter', 'pause', 'connect'];

function send(res: http.ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function clientAddress(sock: net.Socket): string {
  const addr = (sock.remoteAddress ?? '').replace(/^::ffff:/, '');
  return `${addr}:${sock.remotePort}`;
}

/** One HTTP GET from inside `netns`; answers the body. */
export async function httpGetInNetns(netns: string, host: string, port: number, path: string, timeoutMs: number): Promise<string> {
  const sock = await connectTcp(netns, host, port, timeoutMs);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`reading from ${host}:${port} timed out after ${timeoutMs}ms`));
    }, timeoutMs);
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('end', () => {
      clearTimeout(timer);
      sock.end();
      const raw = Buffer.concat(chunks).toString('utf8');
      const split = raw.indexOf('\r\n\r\n');
      const head = split === -1 ? raw : raw.slice(0, split);
      const status = /^HTTP\/1\.[01] (\d+)/.exec(head);
      let body = split === -1 ? '' : raw.slice(split + 4);
      if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) body = decodeChunked(body);
      if (!status) reject(new Error(`no HTTP answer from ${host}:${port}`));
      else if (Number(status[1]) >= 400) reject(new Error(`HTTP ${status[1]} from ${host}:${port}: ${body.trim()}`));
      else resolve(body);
    });
    sock.resume();
    // Not end(): a server may close a half-closed connection before it answers.
    sock.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\nUser-Agent: flatnet-agnhost\r\n\r\n`);
  });
}

function decodeChunked(body: string): string {
  let out = '';
  let rest = body;
  while (rest.length > 0) {
    const nl = rest.indexOf('\r\n');
    if (nl === -1) break;
    const size = parseInt(rest.slice(0, nl), 16);
    if (!size) break;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
  return out;
}

/** One UDP request from inside `netns`; answers the reply's text. */
export async function udpRequestInNetns(netns: string, host: string, port: number, message: string, timeoutMs: number): Promise<string> {
  const socket = await bindUdp(netns, '0.0.0.0', 0);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no UDP answer from ${host}:${port} within ${timeoutMs}ms`));
    }, timeoutMs);
    socket.once('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg.toString('utf8'));
    });
    socket.send(message, port, host, (err) => {
      if (err) {
        clearTimeout(timer);
        socket.close();
        reject(err);
      }
    });
  });
}

/** Runs `sh -c cmd` in the pod's namespace; answers its combined output and exit code. */
export function shellInNetns(netns: string, cmd: string): Promise<{ output: string; code: number }> {
  return new Promise((resolve) => {
    const child = runIn(netns, ['sh', '-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (err) => resolve({ output: err.message, code: 127 }));
    child.on('close', (code) => resolve({ output, code: code ?? 1 }));
  });
}

function parsePort(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < -1 || n > 65535) throw new WorkloadStartError(`agnhost: --${flag}=${text} is not a port number`);
  return n;
}

function parseDuration(text: string, fallbackMs: number): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) return fallbackMs;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

export const runNetexec: WorkloadMain = async (ctx) => {
  const { flags } = parseGoFlags(ctx.args);
  const httpPort = parsePort(flagValue(flags, 'http-port', '8080'), 'http-port');
  const udpPort = parsePort(flagValue(flags, 'udp-port', '8081'), 'udp-port');
  const sctpPort = parsePort(flagValue(flags, 'sctp-port', '-1'), 'sctp-port');
  if (sctpPort !== -1) ctx.stderr('agnhost netexec: SCTP is not served by flatnet; ignoring --sctp-port\n');
  const servers: OpenServer[] = [];
  const workload = servingWorkload([() => servers.forEach((s) => s.close())]);
  const dial = async (q: URLSearchParams): Promise<{ code: number; body: string }> => {
    const request = q.get('request') ?? '';
    const protocol = q.get('protocol') ?? 'http';
    const host = q.get('host') ?? '';
    const port = Number(q.get('port'));
    const tries = Math.max(1, Number(q.get('tries') ?? '1') || 1);
    if (!host || !Number.isInteger(port) || port <= 0) return { code: 400, body: 'dial needs host= and port= query parameters\n' };
    const responses: string[] = [];
    const errors: string[] = [];
    for (let i = 0; i < tries; i++) {
      try {
        if (protocol === 'udp') responses.push(await udpRequestInNetns(ctx.netns, host, port, request, 5000));
        else if (protocol === 'http') responses.push((await httpGetInNetns(ctx.netns, host, port, `/${request.replace(/^\//, '')}`, 5000)).trim());
        else return { code: 400, body: `unsupported protocol ${protocol}: use http or udp\n` };
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    return { code: 200, body: JSON.stringify({ responses, errors }) };
  };
  const handler: http.RequestListener = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://netexec');
    const q = url.searchParams;
    switch (url.pathname) {
      case '/':
        return send(res, 200, `NOW: ${new Date().toISOString()}`);
      case '/hostname':
      case '/hostName':
        return send(res, 200, ctx.hostname);
      case '/clientip':
        return send(res, 200, clientAddress(req.socket));
      case '/echo':
        return send(res, 200, q.get('msg') ?? '');
      case '/healthz':
        return send(res, 200, 'ok');
      case '/header': {
        const key = (q.get('key') ?? '').toLowerCase();
        const v = req.headers[key];
        return send(res, 200, Array.isArray(v) ? v.join(',') : (v ?? ''));
      }
      case '/dial':
        void dial(q).then(({ code, body }) => send(res, code, body, code === 200 ? 'application/json' : 'text/plain'));
        return;
      case '/shell':
        void shellInNetns(ctx.netns, q.get('cmd') ?? '').then(({ output, code }) =>
          send(res, code === 0 ? 200 : 417, JSON.stringify(code === 0 ? { output } : { output, error: `exit status ${code}` }), 'application/json'),
        );
        return;
      case '/exit': {
        const code = Number(q.get('code') ?? '0');
        ctx.stdout(`exiting with code ${code}\n`);
        res.on('finish', () => workload.exit(Number.isInteger(code) ? code : 0));
        return send(res, 200, '');
      }
      default:
        return send(res, 404, `404 page not found\n`);
    }
  };
  servers.push(await serveHttpInNetns(ctx.netns, httpPort, handler));
  ctx.stdout(`Started HTTP server on port ${httpPort}\n`);
  if (udpPort !== -1) {
    servers.push(
      await serveUdpInNetns(ctx.netns, udpPort, (msg, from) => {
        const text = msg.toString('utf8').trim();
        if (text === 'hostname') return ctx.hostname;
        if (text === 'clientip') return from.address;
        if (text.startsWith('echo ')) return text.slice(5);
        if (text === 'echo') return '';
        return undefined;
      }),
    );
    ctx.stdout(`Started UDP server on port ${udpPort}\n`);
  }
  return workload;
};

export const runServeHostname: WorkloadMain = async (ctx) => {
  const { flags } = parseGoFlags(ctx.args, ['tcp', 'udp', 'http', 'close']);
  const port = parsePort(flagValue(flags, 'port', '9376'), 'port');
  const tcp = flagBool(flags, 'tcp', false);
  const udp = flagBool(flags, 'udp', false);
  const httpOn = flagBool(flags, 'http', true);
  const servers: OpenServer[] = [];
  const workload = servingWorkload([() => servers.forEach((s) => s.close())]);
  // TCP and HTTP would share the port: --tcp serves raw TCP instead of HTTP.
  if (tcp) {
    servers.push(await serveTcpInNetns(ctx.netns, port, (sock) => sock.end(ctx.hostname)));
  } else if (httpOn) {
    servers.push(await serveHttpInNetns(ctx.netns, port, (_req, res) => send(res, 200, ctx.hostname)));
  }
  if (udp) servers.push(await serveUdpInNetns(ctx.netns, port, () => ctx.hostname));
  ctx.stdout(`Serving ${ctx.hostname} on port ${port}\n`);
  return workload;
};

/** porter: for every SERVE_PORT_<n>=<text>, an HTTP server on port n answering <text>. */
export const runPorter: WorkloadMain = async (ctx) => {
  const servers: OpenServer[] = [];
  const workload = servingWorkload([() => servers.forEach((s) => s.close())]);
  for (const [name, value] of Object.entries(ctx.env)) {
    const m = /^SERVE_PORT_(\d+)$/.exec(name);
    if (!m) continue;
    servers.push(await serveHttpInNetns(ctx.netns, Number(m[1]), (_req, res) => send(res, 200, value)));
    ctx.stdout(`porter: serving port ${m[1]}\n`);
  }
  if (servers.length === 0) ctx.stderr('porter: no SERVE_PORT_<n> environment variables; serving nothing\n');
  return workload;
};

/** connect host:port [--timeout=1s]: exits 0 when a TCP connection opens, 1 otherwise. */
export async function agnhostConnect(netns: string, args: string[], out: { stderr(text: string): void }): Promise<number> {
  const { flags, positionals } = parseGoFlags(args);
  const target = positionals[0];
  const m = target ? /^\[?([^\]]+?)\]?:(\d+)$/.exec(target) : null;
  if (!m) {
    out.stderr('usage: agnhost connect <host>:<port> [--timeout=1s] [--protocol=tcp]\n');
    return 2;
  }
  const protocol = flagValue(flags, 'protocol', 'tcp');
  if (protocol !== 'tcp') {
    out.stderr(`agnhost connect: protocol ${protocol} is not supported by flatnet (tcp only)\n`);
    return 2;
  }
  try {
    const sock = await connectTcp(netns, m[1], Number(m[2]), parseDuration(flagValue(flags, 'timeout', '1s'), 1000));
    sock.destroy();
    return 0;
  } catch (err) {
    const code = (err as { code?: string }).code;
    out.stderr(code === 'ETIMEDOUT' ? 'TIMEOUT\n' : code === 'ECONNREFUSED' ? 'REFUSED\n' : `OTHER: ${(err as Error).message}\n`);
    return 1;
  }
}

const runConnect: WorkloadMain = async (ctx) => {
  const code = await agnhostConnect(ctx.netns, ctx.args.slice(0), ctx);
  return { exited: Promise.resolve(code), stop: () => undefined };
};

/** agnhost with its subcommand as the first argument. */
export const runAgnhost: WorkloadMain = async (ctx: WorkloadContext): Promise<RunningWorkload> => {
  const [sub, ...rest] = ctx.args;
  const next = { ...ctx, args: rest };
  switch (sub) {
    case 'netexec':
      return runNetexec(next);
    case 'serve-hostname':
      return runServeHostname(next);
    case 'porter':
      return runPorter(next);
    case 'pause':
      return runPause(next);
    case 'connect':
      return runConnect(next);
    default:
      throw new WorkloadStartError(
        sub
          ? `agnhost: subcommand "${sub}" is not built into flatnet (built in: ${AGNHOST_SUBCOMMANDS.join(', ')})`
          : `agnhost: no subcommand given; pass one in args (built in: ${AGNHOST_SUBCOMMANDS.join(', ')})`,
      );
  }
};
