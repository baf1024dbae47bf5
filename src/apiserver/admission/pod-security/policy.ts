// Pod Security levels, versions and the namespace labels that choose them, as kube-apiserver's
// PodSecurity admission reads them: `pod-security.kubernetes.io/<mode>` names a level and
// `pod-security.kubernetes.io/<mode>-version` a policy version (`latest` or `v1.x`); a label that
// is absent takes the cluster-wide default. Pure functions only.

export type Level = 'privileged' | 'baseline' | 'restricted';
export type Mode = 'enforce' | 'audit' | 'warn';

export const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];
export const MODES: readonly Mode[] = ['enforce', 'audit', 'warn'];
export const LABEL_PREFIX = 'pod-security.kubernetes.io/';

/** A policy version: `latest`, or the minor number of `v1.<minor>`. */
export type Version = 'latest' | number;

export interface LevelVersion {
  level: Level;
  version: Version;
}

export type Policy = Record<Mode, LevelVersion>;

export interface LabelError {
  field: string;
  value: string;
  message: string;
}

export const levelLabel = (mode: Mode): string => `${LABEL_PREFIX}${mode}`;
export const versionLabel = (mode: Mode): string => `${LABEL_PREFIX}${mode}-version`;

/** The six labels a policy is read from, level and version of each mode. */
const POLICY_LABELS: readonly string[] = MODES.flatMap((m) => [levelLabel(m), versionLabel(m)]);

/**
 * A string that is equal for two label sets exactly when they select the same policy: the values
 * of the six policy labels, absent ones told apart from empty ones.
 */
export function policyLabelsKey(labels: Record<string, string> | undefined): string {
  if (!labels) return '';
  let key = '';
  for (const name of POLICY_LABELS) {
    const v = labels[name];
    key += v === undefined ? '\u0000' : `${JSON.stringify(v)}`;
  }
  return key;
}

export function formatVersion(v: Version): string {
  return v === 'latest' ? 'latest' : `v1.${v}`;
}

/** `baseline:latest`, `restricted:v1.30`: how upstream names a policy in messages and annotations. */
export function formatLevelVersion(lv: LevelVersion): string {
  return `${lv.level}:${formatVersion(lv.version)}`;
}

export function levelRank(level: Level): number {
  return LEVELS.indexOf(level);
}

/** `latest` is newer than every `v1.x`. */
export function versionAtLeast(v: Version, minor: number): boolean {
  return v === 'latest' || v >= minor;
}

export function parseLevel(value: string): { level: Level; error?: string } {
  if ((LEVELS as readonly string[]).includes(value)) return { level: value as Level };
  // An unreadable level fails closed, as upstream does.
  return { level: 'restricted', error: `must be one of ${LEVELS.join(', ')}` };
}

export function parseVersion(value: string): { version: Version; error?: string } {
  if (value === 'latest') return { version: 'latest' };
  const m = /^v1\.(0|[1-9][0-9]{0,3})$/.exec(value);
  if (m) return { version: Number(m[1]) };
  return { version: 'latest', error: `must be 'latest' or of the form 'v1.x'` };
}

export function sameLevelVersion(a: LevelVersion, b: LevelVersion): boolean {
  return a.level === b.level && a.version === b.version;
}

/**
 * The policy a namespace's labels select over the defaults. As upstream: an enforce level stricter
 * than the warn level also warns at it when no warn level is set (so `kubectl apply` shows what
 * enforce will refuse in pod templates). Errors name the label as a field path.
 */
export function policyFromLabels(labels: Record<string, string> | undefined, defaults: Policy): { policy: Policy; errors: LabelError[] } {
  const policy: Policy = { enforce: { ...defaults.enforce }, audit: { ...defaults.audit }, warn: { ...defaults.warn } };
  const errors: LabelError[] = [];
  if (!labels) return { policy, errors };
  let enforceLevelSet = false;
  for (const mode of MODES) {
    const level = labels[levelLabel(mode)];
    if (level !== undefined) {
      const parsed = parseLevel(level);
      policy[mode].level = parsed.level;
      if (parsed.error) errors.push({ field: `metadata.labels[${levelLabel(mode)}]`, value: level, message: parsed.error });
      else if (mode === 'enforce') enforceLevelSet = true;
    }
    const version = labels[versionLabel(mode)];
    if (version !== undefined) {
      const parsed = parseVersion(version);
      policy[mode].version = parsed.version;
      if (parsed.error) errors.push({ field: `metadata.labels[${versionLabel(mode)}]`, value: version, message: parsed.error });
    }
  }
  if (labels[levelLabel('warn')] === undefined && enforceLevelSet && levelRank(policy.enforce.level) > levelRank(policy.warn.level)) {
    policy.warn.level = policy.enforce.level;
    if (labels[versionLabel('warn')] === undefined) policy.warn.version = policy.enforce.version;
  }
  return { policy, errors };
}

export function isFullyPrivileged(p: Policy): boolean {
  return MODES.every((m) => p[m].level === 'privileged');
}

/** The cluster-wide defaults of kube-apiserver's PodSecurity configuration: privileged everywhere. */
export const UPSTREAM_DEFAULTS: Policy = {
  enforce: { level: 'privileged', version: 'latest' },
  audit: { level: 'privileged', version: 'latest' },
  warn: { level: 'privileged', version: 'latest' },
};

/**
 * flatnet's defaults: namespaces without labels enforce, audit and warn at baseline, so a workload
 * whose pods would be refused says so when it is applied.
 */
export const FLATNET_DEFAULTS: Policy = uniformPolicy('baseline');

function uniformPolicy(level: Level): Policy {
  return { enforce: { level, version: 'latest' }, audit: { level, version: 'latest' }, warn: { level, version: 'latest' } };
}

/**
 * `--pod-security-default`: one level for all three modes (`baseline`), or `mode=level[:version]`
 * pairs separated by commas (`enforce=baseline,warn=restricted,audit=restricted:v1.30`); modes not
 * named stay privileged, as upstream's configuration leaves them.
 */
export function parseDefaultPolicy(spec: string): Policy {
  const policy: Policy = { enforce: { ...UPSTREAM_DEFAULTS.enforce }, audit: { ...UPSTREAM_DEFAULTS.audit }, warn: { ...UPSTREAM_DEFAULTS.warn } };
  const text = spec.trim();
  if (!text.includes('=')) {
    const { level, error } = parseLevel(text);
    if (error) throw new Error(`--pod-security-default ${JSON.stringify(spec)}: the level ${error} (or mode=level pairs such as enforce=baseline,warn=restricted)`);
    return uniformPolicy(level);
  }
  for (const pair of text.split(',')) {
    const [mode, value = ''] = pair.split('=', 2).map((s) => s.trim());
    if (!(MODES as readonly string[]).includes(mode)) throw new Error(`--pod-security-default ${JSON.stringify(spec)}: ${JSON.stringify(mode)} is not a mode; modes are ${MODES.join(', ')}`);
    const [levelText, versionText] = value.split(':', 2);
    const level = parseLevel(levelText);
    if (level.error) throw new Error(`--pod-security-default ${JSON.stringify(spec)}: the ${mode} level ${level.error}`);
    const version = versionText === undefined ? { version: 'latest' as Version } : parseVersion(versionText);
    if (version.error) throw new Error(`--pod-security-default ${JSON.stringify(spec)}: the ${mode} version ${version.error}`);
    policy[mode as Mode] = { level: level.level, version: version.version };
  }
  return policy;
}

/** The labels a system namespace gets at creation: kube-system runs privileged pods, as on upstream clusters. */
export function systemNamespaceLabels(name: string): Record<string, string> {
  if (name !== 'kube-system') return {};
  return Object.fromEntries(MODES.map((m) => [levelLabel(m), 'privileged']));
}
