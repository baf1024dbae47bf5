// Matching a metav1.LabelSelector against a set of labels. Pure and shared: NetworkPolicy
// selectors, workload selectors and anything else that selects by labels use this one function.
//
// Semantics (metav1): every matchLabels pair AND every matchExpressions requirement must hold;
// an empty selector `{}` matches everything. `In` needs the key present with one of the values;
// `NotIn` holds when the key is absent or its value is not listed; `Exists` / `DoesNotExist`
// test the key only.

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type Labels = Readonly<Record<string, string>>;

/** Thrown for an operator the API does not define; the message names it and the valid ones. */
export class LabelSelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelSelectorError';
  }
}

function requirementHolds(req: LabelSelectorRequirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && values.includes(labels[req.key]);
    case 'NotIn':
      return !has || !values.includes(labels[req.key]);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      throw new LabelSelectorError(`label selector requirement on key "${req.key}" has operator "${req.operator}"; use In, NotIn, Exists or DoesNotExist`);
  }
}

/** Whether `labels` satisfy `selector`. An empty selector matches every label set. */
export function labelSelectorMatches(selector: LabelSelector, labels: Labels | undefined): boolean {
  const l = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (l[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    if (!requirementHolds(req, l)) return false;
  }
  return true;
}

/** Whether the selector is `{}` (selects everything). */
export function labelSelectorIsEmpty(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

/** The selector in kubectl's text form (`app=web,tier in (a,b),!legacy`); `{}` prints as `<all>`. */
export function formatLabelSelector(selector: LabelSelector): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const req of selector.matchExpressions ?? []) {
    const values = (req.values ?? []).join(',');
    if (req.operator === 'In') parts.push(`${req.key} in (${values})`);
    else if (req.operator === 'NotIn') parts.push(`${req.key} notin (${values})`);
    else if (req.operator === 'Exists') parts.push(req.key);
    else if (req.operator === 'DoesNotExist') parts.push(`!${req.key}`);
    else parts.push(`${req.key} ${req.operator} (${values})`);
  }
  return parts.length ? parts.join(',') : '<all>';
}
