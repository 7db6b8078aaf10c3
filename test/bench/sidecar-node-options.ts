// How a benchmark's sidecar runs Node: as the container image does (services/auth/Dockerfile), so what is
// measured is what ships. Its NODE_OPTIONS (V8's heap limits) and the options on its command line before
// the script (V8 flags such as --heap-growing-percent, which Node does not accept in NODE_OPTIONS).
// SIDECAR_NODE_OPTIONS replaces the first ('' for V8's defaults, '--cpu-prof --cpu-prof-dir=/tmp/prof' to
// profile) and SIDECAR_NODE_ARGS the second (space-separated; '' for none).
import { readFile } from 'node:fs/promises';

/** The image's NODE_OPTIONS. */
function nodeOptionsOf(dockerfile: string): string {
  const options = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile)?.[1];
  if (options === undefined) throw new Error('services/auth/Dockerfile sets no NODE_OPTIONS');
  return options;
}

/** The image's `CMD ["node", <options>..., "<script>"]`: the options. */
function nodeArgsOf(dockerfile: string): string[] {
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
  const argv: unknown = cmd === undefined ? undefined : JSON.parse(cmd);
  if (!Array.isArray(argv) || argv[0] !== 'node' || !argv.every((arg) => typeof arg === 'string'))
    throw new Error('services/auth/Dockerfile has no CMD ["node", ...]');
  return argv.slice(1, -1);
}

/** NODE_OPTIONS for the sidecar's environment (nothing when empty), its Node arguments, and a line saying which. */
export async function sidecarNodeEnv(): Promise<{
  env: Record<string, string>;
  args: string[];
  line: string;
}> {
  const dockerfile = await readFile(new URL('../../services/auth/Dockerfile', import.meta.url), 'utf8');
  const optionsOverride = process.env['SIDECAR_NODE_OPTIONS'];
  const argsOverride = process.env['SIDECAR_NODE_ARGS'];
  const options = optionsOverride ?? nodeOptionsOf(dockerfile);
  const args =
    argsOverride === undefined ? nodeArgsOf(dockerfile) : argsOverride.split(' ').filter((arg) => arg !== '');
  return {
    env: options === '' ? {} : { NODE_OPTIONS: options },
    args,
    line:
      `sidecar NODE_OPTIONS: ${options === '' ? "(none: V8's defaults)" : options}; ` +
      `node options: ${args.length === 0 ? '(none)' : args.join(' ')}`,
  };
}
