// The object a list or watch names through its field selector: upstream's RequestInfo takes the
// name of a list/watch from `fieldSelector=metadata.name=<name>` (an exact match, `=` or `==`), so
// that authorizers can allow reading one object by list and watch (the Node authorizer does this
// for the ConfigMaps and Secrets of a node's pods). Names that are not valid path segments
// (`.`, `..`, anything with `/` or `%`) are ignored, as upstream ignores them.

/** Splits a field selector on the commas that are not escaped with a backslash. */
function terms(selector: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i];
    if (ch === '\\' && i + 1 < selector.length) cur += ch + selector[++i];
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function isValidPathSegmentName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

/** The name a field selector requires exactly (`metadata.name=x` or `metadata.name==x`), or '' when it requires none. */
export function nameFromFieldSelector(selector: string | null | undefined): string {
  if (!selector) return '';
  for (const term of terms(selector)) {
    const m = /^\s*metadata\.name\s*(?:==|=)(?!=)\s*(.*?)\s*$/.exec(term);
    if (!m) continue;
    const name = m[1].replace(/\\(.)/g, '$1');
    return isValidPathSegmentName(name) ? name : '';
  }
  return '';
}
