// Extracts the Kubernetes manifests from the seed documents (test/fixtures/seeds/update.ts keeps
// them as the fixtures in test/fixtures/seeds, which the tests read). The seeds are
// scraped web pages whose YAML lost its indentation, so each manifest is re-indented by walking
// the kind's OpenAPI v3 schema: a key belongs to the innermost open object whose schema has it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openapiV3 } from '../../../src/apiserver/present/index.js';
import { RESOURCES, findByKind, groupVersionPath } from '../../../src/api/resources.js';

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: unknown;
  $ref?: string;
  allOf?: Schema[];
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
}

export interface SeedManifest {
  source: string;
  kind: string;
  name: string;
  yaml: string;
}

const docs = new Map<string, { components?: { schemas?: Record<string, Schema> } }>();

function schemasFor(apiVersion: string): Record<string, Schema> {
  const r = RESOURCES.find((x) => (x.group ? `${x.group}/${x.version}` : x.version) === apiVersion);
  if (!r) return {};
  const path = `/openapi/v3${groupVersionPath(r)}`;
  if (!docs.has(path)) docs.set(path, (openapiV3(path) ?? {}) as { components?: { schemas?: Record<string, Schema> } });
  return docs.get(path)!.components?.schemas ?? {};
}

function resolve(s: Schema | undefined, all: Record<string, Schema>): Schema | undefined {
  let cur = s;
  for (let i = 0; i < 10 && cur; i++) {
    const ref = cur.$ref ?? cur.allOf?.find((a) => a.$ref)?.$ref;
    if (!ref) return cur;
    cur = all[ref.replace('#/components/schemas/', '')];
  }
  return cur;
}

const keyLine = /^(-\s+)?("[^"]+"|'[^']+'|[A-Za-z0-9_./$-]+):(\s+(.*))?$/;
const scalarItem = /^-\s+(.+)$/;

function stripComment(line: string): string {
  const i = line.search(/\s#/);
  const out = i >= 0 ? line.slice(0, i) : line;
  return out.trimEnd();
}

function isFreeForm(s: Schema | undefined): boolean {
  return !s || (!s.properties && s.type !== 'array');
}

class Reindenter {
  private i = 0;
  readonly out: string[] = [];
  constructor(
    private readonly lines: string[],
    private readonly all: Record<string, Schema>,
  ) {}

  private peek(): string | undefined {
    return this.lines[this.i];
  }

  /** Keys of an object; stops at a key an ancestor owns, or a list item the caller must judge. */
  object(schema: Schema, indent: string, ancestors: Set<string>[], firstKeyDone = false): void {
    const props = schema.properties ?? {};
    const freeForm = isFreeForm(schema);
    let first = !firstKeyDone;
    while (this.peek() !== undefined) {
      const line = this.peek()!;
      const m = keyLine.exec(line);
      if (!m || m[1]) return; // a list item: the enclosing list decides
      const key = m[2];
      const own = freeForm ? !ancestors.some((a) => a.has(key)) : key in props || !ancestors.some((a) => a.has(key));
      if (!own && !first) return;
      first = false;
      this.i++;
      const value = m[4];
      if (value !== undefined && value !== '') {
        this.out.push(`${indent}${key}: ${value}`);
        continue;
      }
      this.out.push(`${indent}${key}:`);
      this.value(resolve(props[key], this.all), indent, [new Set(Object.keys(props)), ...ancestors]);
    }
  }

  /** The nested value after `key:` with no inline value. */
  private value(child: Schema | undefined, indent: string, ancestors: Set<string>[]): void {
    if (child?.type === 'array' || (this.peek() !== undefined && /^-\s/.test(this.peek()!) && !child?.properties)) {
      this.array(resolve(child?.items, this.all), indent, ancestors);
    } else {
      this.object(child ?? {}, indent + '  ', ancestors);
    }
  }

  private array(item: Schema | undefined, indent: string, ancestors: Set<string>[]): void {
    const itemProps = item?.properties ?? {};
    let count = 0;
    while (this.peek() !== undefined && /^-\s/.test(this.peek()!)) {
      const line = this.peek()!;
      const m = keyLine.exec(line);
      if (m && m[1]) {
        const key = m[2];
        // A new item of an enclosing list when this list's items have no such key.
        if (count > 0 && item?.properties && !(key in itemProps) && ancestors.some((a) => a.has(key))) return;
        this.i++;
        count++;
        const value = m[4];
        if (value !== undefined && value !== '') this.out.push(`${indent}- ${key}: ${value}`);
        else {
          this.out.push(`${indent}- ${key}:`);
          this.value(resolve(itemProps[key], this.all), indent + '  ', [new Set(Object.keys(itemProps)), ...ancestors]);
        }
        this.object(item ?? {}, indent + '  ', ancestors, true);
      } else {
        if (count > 0 && item?.properties) return;
        const s = scalarItem.exec(line);
        if (!s) return;
        this.i++;
        count++;
        this.out.push(`${indent}- ${s[1]}`);
      }
    }
  }
}

/** Every manifest (a YAML document starting with apiVersion and naming a served kind) in the seeds. */
export function seedManifests(dir: string): SeedManifest[] {
  const found: SeedManifest[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    const lines = readFileSync(join(dir, file), 'utf8').split('\n').map((l) => l.trim());
    for (let i = 0; i < lines.length; i++) {
      const av = /^apiVersion:\s*(\S+)$/.exec(lines[i]);
      if (!av) continue;
      // The document: YAML-looking lines until prose, a separator or the next document.
      const body: string[] = [];
      for (let j = i; j < lines.length; j++) {
        if (j > i && /^apiVersion:/.test(lines[j])) break;
        if (lines[j] === '---') break;
        if (lines[j].startsWith('#') || lines[j] === '') continue;
        const l = stripComment(lines[j]);
        if (!keyLine.test(l) && !scalarItem.test(l)) break;
        body.push(l);
      }
      const kindLine = body.find((l) => /^kind:\s*\S+$/.test(l));
      if (!kindLine) continue;
      const kind = kindLine.split(':')[1].trim();
      if (!findByKind(av[1], kind)) continue;
      const all = schemasFor(av[1]);
      const root = Object.values(all).find((s) => s['x-kubernetes-group-version-kind']?.some((g) => g.kind === kind));
      if (!root) continue;
      const r = new Reindenter(body, all);
      r.object(root, '', []);
      const yaml = r.out.join('\n') + '\n';
      const name = /\nmetadata:\n(?:\s{2}.*\n)*?\s{2}name:\s*(\S+)/.exec('\n' + yaml)?.[1] ?? '';
      found.push({ source: `${file}:${i + 1}`, kind, name, yaml });
    }
  }
  return found;
}
