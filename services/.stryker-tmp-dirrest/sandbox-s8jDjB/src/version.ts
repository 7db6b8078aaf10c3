// @ts-nocheck
// The sidecar's version, from its own package.json: that file sits one level above both src/ (tests) and
// dist/ (the build, and the container image, which copies it beside dist/).
import { readFileSync } from 'node:fs';

function readVersion(): string {
  const manifest: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const version =
    typeof manifest === 'object' && manifest !== null && 'version' in manifest ? manifest.version : undefined;
  return typeof version === 'string' && version !== '' ? version : 'unknown';
}

export const VERSION: string = readVersion();
