// The NODE_OPTIONS a benchmark's sidecar runs with: the container image's (services/auth/Dockerfile: V8
// heap flags), so what is measured is what ships; SIDECAR_NODE_OPTIONS replaces them ('' for V8's
// defaults, '--cpu-prof --cpu-prof-dir=/tmp/prof' to profile).
import { readFile } from 'node:fs/promises';

export async function sidecarNodeOptions(): Promise<string> {
  const override = process.env['SIDECAR_NODE_OPTIONS'];
  if (override !== undefined) return override;
  const dockerfile = await readFile(new URL('../../services/auth/Dockerfile', import.meta.url), 'utf8');
  const options = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile)?.[1];
  if (options === undefined) throw new Error('services/auth/Dockerfile sets no NODE_OPTIONS');
  return options;
}

/** NODE_OPTIONS for the sidecar's environment (nothing when empty), and a line saying which. */
export async function sidecarNodeEnv(): Promise<{ env: Record<string, string>; line: string }> {
  const options = await sidecarNodeOptions();
  return {
    env: options === '' ? {} : { NODE_OPTIONS: options },
    line: `sidecar NODE_OPTIONS: ${options === '' ? "(none: V8's defaults)" : options}`,
  };
}
