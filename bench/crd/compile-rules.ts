// Compiles every x-kubernetes-validations rule of a set of CRDs in our CEL environment and counts
// them: `node --import tsx bench/crd/compile-rules.ts DIR|FILE` with the Gateway API release's CRD
// files (config/crd/standard and config/crd/experimental of kubernetes-sigs/gateway-api, as a
// directory of YAML files or one bundle). The project does not keep those files; exit status 1
// when a rule does not compile.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { compileSchemaRules } from '../../src/api/crd/cel/rules.js';
import type { JSONSchemaProps } from '../../src/api/crd/types.js';

const SOURCE = process.argv[2] ?? '';

interface CrdDoc {
  kind?: string;
  metadata?: { name?: string };
  spec?: { versions?: { name: string; schema?: { openAPIV3Schema?: JSONSchemaProps } }[] };
}

function bundleFiles(): string[] {
  if (!existsSync(SOURCE)) throw new Error(`no Gateway API CRDs at ${SOURCE}: give the release's CRD files (config/crd/standard and config/crd/experimental of kubernetes-sigs/gateway-api) as a directory or one bundle file`);
  if (!statSync(SOURCE).isDirectory()) return [SOURCE];
  return readdirSync(SOURCE)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(SOURCE, f));
}

function countRules(s: unknown): number {
  if (Array.isArray(s)) return s.reduce((n: number, x) => n + countRules(x), 0);
  if (typeof s !== 'object' || s === null) return 0;
  let n = 0;
  for (const [k, v] of Object.entries(s)) n += k === 'x-kubernetes-validations' && Array.isArray(v) ? v.length + countRules(v) : countRules(v);
  return n;
}

function main(): void {
  let crds = 0;
  let rules = 0;
  let formatRules = 0;
  const failures: string[] = [];
  for (const file of bundleFiles()) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const crd = doc.toJS() as CrdDoc | null;
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      crds++;
      for (const v of crd.spec?.versions ?? []) {
        const schema = v.schema?.openAPIV3Schema;
        rules += countRules(schema);
        formatRules += (JSON.stringify(schema ?? {}).match(/format\.dns1123Label\(\)/g) ?? []).length;
        for (const e of compileSchemaRules(schema).errors) failures.push(`${crd.metadata?.name} ${v.name} ${e.field}: ${e.message}`);
      }
    }
  }
  if (crds === 0) throw new Error(`no CustomResourceDefinition in ${SOURCE}`);
  console.log(`${crds} CRDs, ${rules} rules, ${rules - failures.length} compiled, ${formatRules} calling format.dns1123Label()`);
  for (const f of failures) console.log(`  not compiled: ${f}`);
  process.exitCode = failures.length > 0 ? 1 : 0;
}

main();
