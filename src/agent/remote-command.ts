// exec and attach over the Kubernetes channel protocol (v5.channel.k8s.io, v4.channel.k8s.io):
// each binary WebSocket message is one channel byte and its data: 0 stdin, 1 stdout, 2 stderr,
// 3 the final metav1.Status, 4 terminal resize, 255 close of a stream (v5).
import type { Status } from '../api/types.js';

export const STREAM_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

export const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

export interface StreamOptions {
  command: string[];
  container?: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export function parseStreamOptions(q: URLSearchParams): StreamOptions {
  const flag = (name: string, dflt: boolean) => {
    const v = q.get(name);
    return v === null ? dflt : v === 'true' || v === '1';
  };
  return {
    command: q.getAll('command'),
    container: q.get('container') ?? undefined,
    stdin: flag('stdin', false),
    stdout: flag('stdout', true),
    stderr: flag('stderr', true),
    tty: flag('tty', false),
  };
}

export function chooseStreamProtocol(offered: string[]): string | undefined {
  return STREAM_PROTOCOLS.find((p) => offered.includes(p));
}

export function successStatus(): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' } as Status;
}

export function exitCodeStatus(code: number): Status {
  if (code === 0) return successStatus();
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [...], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

export function failureStatus(message: string, code = 500, reason = 'InternalError'): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** Encodes one channel message. */
export function channelMessage(channel: number, data: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from([channel]), typeof data === 'string' ? Buffer.from(data) : data]);
}

/** Where stdin bytes of the client go. */
export interface StdinTarget {
  write(data: Buffer): unknown;
  end(): unknown;
}

export interface ChannelSink {
  send(data: Buffer): void;
  close(): void;
}

/**
 * The server side of one exec/attach stream: routes client channels to stdin/resize and writes
 * output and the final status.
 */
export class ChannelStreams {
  private stdinTarget: StdinTarget | undefined;
  private done = false;
  onStdinClosed: (() => void) | undefined;

  constructor(
    private readonly sink: ChannelSink,
    readonly protocol: string,
    readonly opts: StreamOptions,
  ) {}

  attachStdin(target: StdinTarget | undefined): void {
    this.stdinTarget = target;
  }

  onMessage(msg: Buffer): void {
    if (msg.length === 0) return;
    const channel = msg[0];
    const data = msg.subarray(1);
    if (channel === Channel.stdin) {
      if (data.length > 0) this.stdinTarget?.write(data);
    } else if (channel === Channel.close) {
      if (data[0] === Channel.stdin) {
        this.stdinTarget?.end();
        this.onStdinClosed?.();
      }
    }
    // Channel 4 (resize): the TTY of `script` keeps its size; nothing to do.
  }

  stdout(data: Buffer | string): void {
    if (!this.done && this.opts.stdout) this.sink.send(channelMessage(Channel.stdout, data));
  }

  stderr(data: Buffer | string): void {
    if (this.done) return;
    if (this.opts.tty) this.stdout(data);
    else if (this.opts.stderr) this.sink.send(channelMessage(Channel.stderr, data));
  }

  /** Sends the final status and closes. */
  finish(status: Status): void {
    if (this.done) return;
    this.done = true;
    const body = this.protocol === 'v1.channel.k8s.io' || this.protocol === 'channel.k8s.io' ? (status.status === 'Success' ? '' : (status.message ?? '')) : JSON.stringify(status);
    if (body) this.sink.send(channelMessage(Channel.error, body));
    this.sink.close();
  }

  get finished(): boolean {
    return this.done;
  }
}
