// The agent's flow collector: informers on Pods, Services, Nodes and NetworkPolicies keep the
// identity index current (rebuilt shortly after a change), the pipeline reads the node's kernel,
// and the kubelet endpoint serves GET /flows and GET /metrics from here.
import type http from 'node:http';
import client from 'prom-client';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { KubeClient } from '../client/client.js';
import { sharedInformer, type SharedInformer } from '../client/shared-informers.js';
import { createLogger } from '../util/log.js';
import { IdentityIndex, slimObjects } from './identity.js';
import { FlowPipeline } from './pipeline.js';
import { serveFlows } from './serve.js';
import { TraceEndpoint } from '../trace/agent-endpoint.js';

export interface FlowCollectorOptions {
  nodeName: string;
  netns?: string;
  capacity?: { verdicts: number; connections: number };
}

const REBUILD_MS = 50;

export class FlowCollector {
  private readonly informers: SharedInformer[] = [];
  private pipeline: FlowPipeline | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly log;
  private readonly trace: TraceEndpoint;

  constructor(
    private readonly kube: KubeClient,
    private readonly opts: FlowCollectorOptions,
  ) {
    this.log = createLogger('flows', { node: opts.nodeName });
    this.trace = new TraceEndpoint(opts.nodeName, opts.netns);
  }

  private index(): IdentityIndex {
    const [pods, services, nodes, policies] = this.informers.map((i) => i.list() as KubeObject[]);
    return new IdentityIndex(slimObjects({ pods, services, nodes, policies }));
  }

  async start(): Promise<void> {
    for (const r of [R.pods, R.services, R.nodes, R.networkpolicies]) this.informers.push(sharedInformer(this.kube, r));
    await Promise.all(this.informers.map((i) => i.start()));
    const rebuild = () => {
      if (this.timer) return;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pipeline?.setIndex(this.index());
      }, REBUILD_MS);
    };
    for (const i of this.informers) i.addHandlers({ add: rebuild, update: rebuild, delete: rebuild });
    this.pipeline = new FlowPipeline({ node: this.opts.nodeName, netns: this.opts.netns, log: this.log, index: this.index(), capacity: this.opts.capacity });
    this.pipeline.start();
    await this.pipeline.whenReady();
    this.log.info('reading flow events', { netns: this.opts.netns });
  }

  /** Serves /flows, /metrics and the trace endpoint (/trace/*); false for other paths. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    if (this.trace.handle(req, res, url.pathname)) return true;
    if (url.pathname === '/metrics') {
      this.pipeline?.stats();
      void client.register.metrics().then((text) => {
        res.writeHead(200, { 'content-type': client.register.contentType });
        res.end(text);
      });
      return true;
    }
    if (url.pathname !== '/flows') return false;
    if (!this.pipeline) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('the flow collector is starting\n');
      return true;
    }
    serveFlows(this.pipeline, url, res);
    return true;
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.pipeline?.stop();
    await this.trace.stop();
    for (const i of this.informers) i.stop();
  }
}
