// metav1.LabelSelector: matching against labels and printing, shared by NetworkPolicy, the
// workload controllers and the scheduler, validation and the API server's Tables.
//
// Semantics (metav1): every matchLabels pair AND every matchExpressions requirement must hold;
// an empty selector `{}` matches everything. `In` needs the key present with one of the values;
// `NotIn` holds when the key is absent or its value is not listed; `Exists` / `DoesNotExist`
// test the key only. A requirement with any other operator holds for nothing, as upstream's
// LabelSelectorAsSelector failing makes a selector select nothing (validation rejects them).

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

/** Whether one requirement holds for `labels`. */
export function labelRequirementHolds(req: LabelSelectorRequirement, labels: Labels): boolean {
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
      return false;
  }
}

/** Whether `labels` satisfy `selector`. An empty selector matches every label set. */
export function labelSelectorMatches(selector: LabelSelector, labels: Labels | undefined): boolean {
  const l = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (l[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    if (!labelRequirementHolds(req, l)) return false;
  }
  return true;
}

/** Whether the selector is `{}` (selects everything). */
export function labelSelectorIsEmpty(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

/**
 * The selector as upstream's selector.String() prints it: requirements sorted by key, `k=v`,
 * `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, values sorted. '' for an empty or absent selector,
 * '<invalid>' for an unknown operator.
 */
export function labelSelectorString(selector: LabelSelector | undefined | null): string {
  if (!selector) return '';
  const reqs: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) reqs.push({ key: k, text: `${k}=${v}` });
  for (const e of selector.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    switch (e.operator) {
      case 'In':
        reqs.push({ key: e.key, text: `${e.key} in (${values})` });
        break;
      case 'NotIn':
        reqs.push({ key: e.key, text: `${e.key} notin (${values})` });
        break;
      case 'Exists':
        reqs.push({ key: e.key, text: e.key });
        break;
      case 'DoesNotExist':
        reqs.push({ key: e.key, text: `!${e.key}` });
        break;
      default:
        return '<invalid>';
    }
  }
  // A stable sort by key, like upstream's sort.Sort(ByKey) over requirements added in order.
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(',');
}

/** metav1.FormatLabelSelector: the selector string, or `<none>` when it selects everything. */
export function formatLabelSelector(selector: LabelSelector | undefined | null): string {
  const s = labelSelectorString(selector);
  return s === '' ? '<none>' : s;
}
