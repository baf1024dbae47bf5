// Kernel parameters of one network namespace (net.* sysctls are per namespace).
import { runCommand } from './exec.js';

/** Sets sysctls (e.g. {'net.ipv4.ip_forward': '1'}) in `netns` with one `sysctl -w` run. */
export async function setSysctls(netns: string | undefined, values: Record<string, string | number>): Promise<void> {
  const pairs = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  if (pairs.length === 0) return;
  await runCommand(['sysctl', '-q', '-w', ...pairs], { netns });
}

export async function getSysctl(netns: string | undefined, key: string): Promise<string> {
  const { stdout } = await runCommand(['sysctl', '-n', key], { netns });
  return stdout.trim();
}
