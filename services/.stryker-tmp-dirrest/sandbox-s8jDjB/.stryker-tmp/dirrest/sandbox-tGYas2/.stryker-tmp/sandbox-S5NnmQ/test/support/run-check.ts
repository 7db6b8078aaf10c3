// @ts-nocheck
// 
// 
// Runs `main.js --check` as an operator would: its own process, the given environment only, stdin piped.
import { execute } from '@registry-ldap-auth/stack/process';
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
  const result = await execute(process.execPath, [SIDECAR_MAIN, '--check', ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    input: stdin,
    timeoutMs: DEADLINE_MS,
  });
  return { status: result.code, stdout: result.stdout, stderr: result.stderr };
}
