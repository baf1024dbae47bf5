// The agent's view of a log the node runtime writes: its path (the agent reads the file for
// `kubectl logs`) and, while anyone follows it, its new entries from the runtime's
// ContainerLogs stream. Shaped as ContainerLog is for the kubelet endpoint: path, closed,
// 'entry' and 'end' events.
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { parseLogLine } from '../agent/container-log.js';
import type { RuntimeClient } from './client.js';

export class RuntimeLog extends EventEmitter {
  closed = false;
  private stream: Readable | undefined;
  private opening = false;

  constructor(
    readonly path: string,
    private readonly client: RuntimeClient,
    private readonly containerId: string,
  ) {
    super();
    this.setMaxListeners(0);
    this.on('newListener', (event: string) => {
      if (event === 'entry') queueMicrotask(() => this.follow());
    });
    this.on('removeListener', (event: string) => {
      if (event === 'entry' && this.listenerCount('entry') === 0) this.unfollow();
    });
  }

  private follow(): void {
    if (this.closed || this.stream || this.opening || this.listenerCount('entry') === 0) return;
    this.opening = true;
    this.client.logs(this.containerId, { follow: true, tailLines: 0 }).then(
      (stream) => {
        this.opening = false;
        if (this.closed || this.listenerCount('entry') === 0) return void stream.destroy();
        this.stream = stream;
        let buffered = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const entry = parseLogLine(buffered.slice(0, nl));
            buffered = buffered.slice(nl + 1);
            if (entry) this.emit('entry', entry);
          }
        });
        stream.on('close', () => {
          this.stream = undefined;
          // The runtime ends the stream when the container exits.
          this.close();
        });
      },
      () => {
        this.opening = false;
        this.close();
      },
    );
  }

  private unfollow(): void {
    this.stream?.destroy();
    this.stream = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unfollow();
    this.emit('end');
  }
}
