// Builds upstream-fields.ts: for every message of the k8s.io/api, apimachinery and apiextensions packages flatnet
// serves, each field's JSON name, protobuf number and type, whether Go's JSON keeps its zero value
// (a pointer, or no omitempty), whether it is embedded inline, and the list/patch markers
// (+listType, +listMapKey, +patchStrategy, +patchMergeKey). Facts read from upstream's
// generated.proto and types.go at a release tag; this program is ours.
//
//   node --import tsx src/api/schema/upstream/extract.ts <kubernetes/api git dir> <apimachinery git dir> \
//     <apiextensions-apiserver git dir> <tag>
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const API_PACKAGES = ['core/v1', 'apps/v1', 'batch/v1', 'discovery/v1', 'networking/v1', 'coordination/v1', 'autoscaling/v1', 'rbac/v1', 'authentication/v1', 'authorization/v1', 'policy/v1', 'events/v1', 'certificates/v1', 'admissionregistration/v1'];
const MACHINERY_PACKAGES = ['pkg/apis/meta/v1', 'pkg/runtime', 'pkg/util/intstr', 'pkg/api/resource'];

function show(gitDir: string, tag: string, path: string): string {
  return execFileSync('git', ['--git-dir', gitDir, 'show', `${tag}:${path}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** k8s.io.api.core.v1.PodSpec -> core.v1.PodSpec; k8s.io.apimachinery.pkg.apis.meta.v1.Time -> meta.v1.Time. */
function shortName(full: string): string {
  return full.replace(/^\./, '').replace(/^k8s\.io\.apiextensions_apiserver\.pkg\.apis\./, '').replace(/^k8s\.io\.api\./, '').replace(/^k8s\.io\.apimachinery\.pkg\.(?:apis\.|util\.|api\.)?/, '');
}

interface GoField {
  json: string;
  pointer: boolean;
  omitempty: boolean;
  inline: boolean;
}

/** Per struct, per protobuf field name: what its Go declaration says about JSON. */
function goFields(source: string): Map<string, Map<string, GoField>> {
  const out = new Map<string, Map<string, GoField>>();
  let current: Map<string, GoField> | undefined;
  for (const line of source.split('\n')) {
    const start = /^type (\w+) struct \{/.exec(line);
    if (start) {
      current = new Map();
      out.set(start[1], current);
      continue;
    }
    if (/^\}/.test(line)) current = undefined;
    if (!current) continue;
    const m = /^\s+(?:(\w+)\s+)?(\S+)\s+`([^`]*)`/.exec(line);
    if (!m) continue;
    const tags = m[3];
    const json = /json:"([^"]*)"/.exec(tags)?.[1] ?? '';
    const proto = /protobuf:"([^"]*)"/.exec(tags)?.[1];
    if (proto === undefined) continue;
    const goType = m[2];
    const [jsonName, ...opts] = json.split(',');
    const protoName = /name=(\w+)/.exec(proto)?.[1] ?? goType.replace(/^.*\./, '').replace(/^./, (c) => c.toLowerCase());
    current.set(protoName, { json: jsonName, pointer: goType.startsWith('*'), omitempty: opts.includes('omitempty'), inline: opts.includes('inline') });
  }
  return out;
}

/** One field token: name=number:type[:flags][|marker=value...] */
function protoMessages(source: string, go: Map<string, Map<string, GoField>>, out: Map<string, string>): void {
  const pkg = /^package ([\w.]+);/m.exec(source)![1];
  const qualify = (t: string) => (t.includes('.') || /^(string|int32|int64|bool|bytes|double|float)$/.test(t) ? t : `${pkg}.${t}`);
  let message: string | undefined;
  let fields: string[] = [];
  let markers: string[] = [];
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    const start = /^message (\w+) \{/.exec(line);
    if (start) {
      message = start[1];
      fields = [];
      markers = [];
      continue;
    }
    if (!message) continue;
    if (line === '}') {
      out.set(shortName(`${pkg}.${message}`), fields.join(' '));
      message = undefined;
      continue;
    }
    const marker = /^\/\/ \+(listType|listMapKey|patchStrategy|patchMergeKey|mapType|structType)=(\S+)/.exec(line);
    if (marker) markers.push(`${marker[1]}=${marker[2]}`);
    if (line.startsWith('//') || line === '') {
      if (line === '') markers = [];
      continue;
    }
    const f = /^(optional|repeated)?\s*(map<\s*(\w+),\s*([\w.]+)\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)/.exec(line);
    if (!f) continue;
    const name = f[5];
    let type: string;
    if (f[3]) type = `map<${shortName(qualify(f[4]))}>`;
    else type = (f[1] === 'repeated' ? '[]' : '') + shortName(qualify(f[2]));
    const g = go.get(message)?.get(name);
    let flags = '';
    if (!g || g.pointer || !g.omitempty) flags += 'k';
    if (g?.inline) flags += 'i';
    const json = g && !g.inline && g.json && g.json !== '-' ? g.json : name;
    const meta = markers.filter((m) => !m.startsWith('mapType') && !m.startsWith('structType'));
    fields.push(`${json}=${f[6]}:${type}${flags ? `:${flags}` : ''}${meta.length ? `|${meta.join('|')}` : ''}`);
    markers = [];
  }
}

function main(): void {
  const [apiGit, machineryGit, extensionsGit, tag] = process.argv.slice(2);
  if (!apiGit || !machineryGit || !extensionsGit || !tag) {
    throw new Error('usage: extract.ts <kubernetes/api git dir> <apimachinery git dir> <apiextensions-apiserver git dir> <tag>');
  }
  const messages = new Map<string, string>();
  for (const p of API_PACKAGES) protoMessages(show(apiGit, tag, `${p}/generated.proto`), goFields(show(apiGit, tag, `${p}/types.go`)), messages);
  for (const p of MACHINERY_PACKAGES) {
    const typesFile = p === 'pkg/runtime' ? 'types.go' : p === 'pkg/util/intstr' ? 'intstr.go' : p === 'pkg/api/resource' ? 'quantity.go' : 'types.go';
    protoMessages(show(machineryGit, tag, `${p}/generated.proto`), goFields(show(machineryGit, tag, `${p}/${typesFile}`)), messages);
  }
  const crd = 'pkg/apis/apiextensions/v1';
  protoMessages(show(extensionsGit, tag, `${crd}/generated.proto`), goFields(show(extensionsGit, tag, `${crd}/types.go`) + show(extensionsGit, tag, `${crd}/types_jsonschema.go`)), messages);
  const lines = [...messages].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, spec]) => `  ${JSON.stringify(name)}: ${JSON.stringify(spec)},`);
  const header = [
    `// Generated by src/api/schema/upstream/extract.ts from k8s.io/api, apimachinery and apiextensions-apiserver ${tag}`,
    '// (generated.proto and types.go): facts about the wire and JSON forms, not code. Do not edit by hand.',
    '// Each field: <json name>=<protobuf number>:<type>[:flags][|marker...]; types are scalars, <pkg>.<Message>,',
    '// []<type> (repeated) or map<<value type>>; flags k = Go JSON keeps the zero value, i = embedded inline.',
    '',
    'export const UPSTREAM_MESSAGES: Record<string, string> = {',
  ];
  const target = fileURLToPath(new URL('./upstream-fields.ts', import.meta.url));
  writeFileSync(target, [...header, ...lines, '};', ''].join('\n'));
  console.log(`${messages.size} messages -> ${target}`);
}

main();
