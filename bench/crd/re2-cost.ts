// The cost of RE2 (re2js) against JS RegExp for what custom resources run: the `pattern`s of real
// CRD schemas (Gateway API hostnames, paths, header names, durations) on typical values, and the
// CEL matches() of a rule. Interleaved rounds in one process; prints ns per test for each engine
// and the ratio. Usage: node --import tsx bench/crd/re2-cost.ts [rounds]
import { RE2JS } from 're2js';
import { celEnvironment, celSource } from '../../src/api/crd/cel/library.js';

const CASES: [pattern: string, input: string][] = [
  ['^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$', 'api.example.com'],
  ['^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', 'my-service'],
  ["^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$", '/api/v1/users'],
  ["^[A-Za-z0-9!#$%&'*+\\-.^_\\x60|~]+$", 'X-Request-Id'],
  ['^([0-9]{1,5}(h|m|s|ms)){1,4}$', '10s'],
  ['^Core|Extended|Implementation-specific$', 'Core'],
];

function time(fn: () => void, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / n;
}

const rounds = Number(process.argv[2] ?? 7);
const N = 20_000;
const js = CASES.map(([p]) => new RegExp(p));
const re2 = CASES.map(([p]) => RE2JS.compile(p));
for (let i = 0; i < CASES.length; i++) {
  if (js[i].test(CASES[i][1]) !== re2[i].test(CASES[i][1])) throw new Error(`engines disagree on case ${i}`);
}

const env = celEnvironment();
const rule = "self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')";
const re2Program = env.parse(celSource(rule));
const jsProgram = env.parse(rule); // the library's built-in method: JS RegExp
const self = { self: 'my-service' };

const totals = { js: 0, re2: 0, celJs: 0, celRe2: 0 };
for (let r = 0; r < rounds; r++) {
  // interleaved: each round runs every engine on every case
  totals.js += time(() => js.forEach((re, i) => re.test(CASES[i][1])), N) / CASES.length;
  totals.re2 += time(() => re2.forEach((re, i) => re.test(CASES[i][1])), N) / CASES.length;
  totals.celJs += time(() => jsProgram(self), N);
  totals.celRe2 += time(() => re2Program(self), N);
}
const per = (x: number) => (x / rounds).toFixed(0);
console.log(`schema patterns (6 Gateway API patterns, one typical value each): JS RegExp ${per(totals.js)} ns, RE2 ${per(totals.re2)} ns per test; RE2/JS = ${(totals.re2 / totals.js).toFixed(1)}x`);
console.log(`CEL rule ${rule}: JS RegExp ${per(totals.celJs)} ns, RE2 ${per(totals.celRe2)} ns per evaluation; RE2/JS = ${(totals.celRe2 / totals.celJs).toFixed(1)}x`);

// the case RE2 is for: a pattern that backtracks exponentially in JS, on a 26-character input
const evil = '^(a+)+$';
const input = `${'a'.repeat(25)}!`;
const tRe2 = time(() => RE2JS.compile(evil).test(input), 100);
const tJs = time(() => new RegExp(evil).test(input), 1);
console.log(`${evil} on ${input.length} characters: RE2 ${(tRe2 / 1e3).toFixed(1)} µs, JS RegExp ${(tJs / 1e6).toFixed(0)} ms`);
