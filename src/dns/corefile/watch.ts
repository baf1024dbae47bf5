// The Corefile from the `coredns` ConfigMap (data key Corefile), watched through the API: the
// first one read is applied as CoreDNS reads its file at start; later edits are applied at once
// when the running configuration has the reload plugin (CoreDNS polls its mounted file instead;
// without reload it never re-reads). An invalid Corefile keeps the running configuration and says
// why, with the line, in the pod's log and as a Warning event on the ConfigMap.
import { createHash } from 'node:crypto';
import { ApiError, type KubeClient } from '../../client/client.js';
import { sharedInformer } from '../../client/shared-informers.js';
import { R } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import type { EventSink } from '../../controllers/events.js';
import { CorefileError } from './parse.js';
import { loadCorefile, type ConfigOptions, type CorefileConfig } from './config.js';

export const COREFILE_KEY = 'Corefile';

export interface CorefileSource {
  namespace: string;
  name: string;
}

export interface CorefileWatchOptions extends ConfigOptions {
  client: KubeClient;
  source: CorefileSource;
  /** Called with each valid Corefile to run (in order). */
  apply: (config: CorefileConfig, text: string) => void;
  podLog: (line: string) => void;
  events: EventSink;
}

export interface CorefileWatch {
  /** Resolves once the ConfigMap was listed (and its Corefile applied if valid). */
  synced: Promise<void>;
  /** The configuration running now (undefined until a Corefile was applied). */
  running(): CorefileConfig | undefined;
  /** How the ConfigMap is followed: a watch by name, or a GET every 2 s when this identity may not list/watch it (undefined until started). */
  mode(): 'watch' | 'poll' | undefined;
  stop(): void;
}

export function corefileDigest(text: string): string {
  return createHash('sha512').update(text).digest('hex');
}

/** Applies one ConfigMap state; pure apart from the callbacks (the informer handler and tests use it). */
export class CorefileReloader {
  private runningConfig?: CorefileConfig;
  private lastSeen?: string;

  constructor(private readonly opts: Omit<CorefileWatchOptions, 'client'>) {}

  running(): CorefileConfig | undefined {
    return this.runningConfig;
  }

  onConfigMap(cm: KubeObject): void {
    const text = (cm as { data?: Record<string, string> }).data?.[COREFILE_KEY];
    const ref: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: cm.metadata };
    if (text === undefined) {
      if (this.lastSeen === '\0missing') return;
      this.lastSeen = '\0missing';
      const why = `ConfigMap ${this.opts.source.namespace}/${this.opts.source.name} has no "${COREFILE_KEY}" key; keeping the running configuration`;
      this.opts.podLog(`[ERROR] plugin/reload: ${why}`);
      this.opts.events.record(ref, 'Warning', 'CorefileMissing', why);
      return;
    }
    if (text === this.lastSeen) return;
    this.lastSeen = text;
    if (this.runningConfig && !this.runningConfig.blocks.some((b) => b.reload)) {
      this.opts.podLog('[INFO] plugin/reload: the Corefile changed, but the running configuration has no reload plugin; restart the pods to apply it');
      return;
    }
    let config: CorefileConfig;
    try {
      config = loadCorefile(text, this.opts);
    } catch (err) {
      const reason = err instanceof CorefileError ? err.message : `Corefile rejected: ${(err as Error).message}`;
      const why = `${reason}; keeping the running configuration`;
      this.opts.podLog(`[ERROR] plugin/reload: ${why}`);
      this.opts.events.record(ref, 'Warning', 'CorefileInvalid', why);
      return;
    }
    this.runningConfig = config;
    this.opts.apply(config, text);
    this.opts.podLog(`[INFO] plugin/reload: Running configuration SHA512 = ${corefileDigest(text)}`);
  }
}

/** How often the ConfigMap is read when this identity may get it but not list/watch it. */
export const POLL_INTERVAL_MS = 2000;

/**
 * Follows the ConfigMap: list/watch by name (one informer, fieldSelector metadata.name=<name>,
 * which upstream's Node authorizer allows a node identity for the ConfigMaps its pods mount, as
 * the DNS pods mount this one); only when that list is refused (an identity that may get the
 * ConfigMap but not list/watch it) a GET every 2 s. Synced after the first successful read, or
 * after the first refusal (the flags' configuration keeps serving, and the refusal is logged).
 */
export function watchCorefile(opts: CorefileWatchOptions): CorefileWatch {
  const reloader = new CorefileReloader(opts);
  const { namespace, name } = opts.source;
  let stopped = false;
  let stopInformer: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastError = '';
  let mode: 'watch' | 'poll' | undefined;
  const reportOnce = (err: Error) => {
    if (err.message === lastError) return;
    lastError = err.message;
    opts.podLog(`[ERROR] plugin/reload: cannot read ConfigMap ${namespace}/${name}: ${err.message}; keeping the running configuration`);
  };
  const poll = async (): Promise<void> => {
    try {
      const cm = await opts.client.get<KubeObject>(R.configmaps, namespace, name);
      if (cm) {
        reloader.onConfigMap(cm);
        lastError = '';
      } else if (lastError !== 'missing') {
        lastError = 'missing';
        opts.podLog(`[WARNING] plugin/reload: ConfigMap ${namespace}/${name} does not exist; keeping the running configuration`);
      }
    } catch (err) {
      reportOnce(err as Error);
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void poll().then(schedule), POLL_INTERVAL_MS);
    timer.unref();
  };
  const start = async (): Promise<void> => {
    try {
      await opts.client.list(R.configmaps, { namespace, fieldSelector: `metadata.name=${name}` });
    } catch (err) {
      if (err instanceof ApiError && (err.code === 403 || err.code === 401)) {
        mode = 'poll';
        await poll();
        schedule();
        return;
      }
      reportOnce(err as Error);
    }
    if (stopped) return;
    mode = 'watch';
    const informer = sharedInformer<KubeObject>(opts.client, R.configmaps, { namespace, fieldSelector: `metadata.name=${name}` });
    informer.addHandlers({
      add: (o) => reloader.onConfigMap(o),
      update: (o) => reloader.onConfigMap(o),
      // A deleted ConfigMap keeps the running configuration (as a mounted file stays in place).
      delete: () => opts.podLog(`[WARNING] plugin/reload: ConfigMap ${namespace}/${name} was deleted; keeping the running configuration`),
    });
    stopInformer = () => informer.stop();
    await informer.start();
  };
  return {
    synced: start(),
    running: () => reloader.running(),
    mode: () => mode,
    stop: () => {
      stopped = true;
      stopInformer?.();
      if (timer) clearTimeout(timer);
    },
  };
}
