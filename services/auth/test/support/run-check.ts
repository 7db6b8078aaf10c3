// Runs `main.js --check` as an operator would: its own process, the given environment only, stdin piped.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { SIDECAR_MAIN } from '@registry-ldap-auth/stack/sidecar';

const DEADLINE_MS = 30_000;

export interface CheckRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export async function runCheck(
  env: Record<string, string>,
  args: string[] = [],
  stdin = '',
): Promise<CheckRun> {
  const child = spawn(process.execPath, [SIDECAR_MAIN, '--check', ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    timeout: DEADLINE_MS,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(stdin);
  const [status] = (await once(child, 'exit')) as [number | null];
  return { status, stdout, stderr };
}
