// The executable entry of flatnet's CNI plugins, run by the wrappers in <data>/cni/bin:
// `node plugin-main.js <plugin>` or a symlink named after the plugin.
import { basename } from 'node:path';
import { pluginName, run } from './main.js';

const name = pluginName(process.argv[2]) ? process.argv[2] : basename(process.argv[1] ?? '').replace(/\.js$/, '');
run([name]).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stdout.write(JSON.stringify({ cniVersion: '1.1.0', code: 5, msg: 'flatnet CNI plugin crashed', details: String((err as Error)?.stack ?? err) }) + '\n');
    process.exitCode = 1;
  },
);
