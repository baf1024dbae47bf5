// What the node-identity tests share: the flatnet CLI run from the sources (as `bin/flatnet` runs
// it, for `token create` and `join`) and the HTTP status of an API call.
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError } from '../../../src/client/client.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

export function flatnet(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], { cwd: repo }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The HTTP status of an API call: 200 when it succeeds, the ApiError's code when it fails. */
export async function code(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof ApiError) return err.code;
    throw err;
  }
}
