// @ts-nocheck
// `node services/auth/dist/main.js --check [--user NAME] [--repository NAME]`: the command line of the
// configuration check. The password of --user comes from a prompt (a terminal) or stdin, never from an
// argument, where `ps` and shell history would keep it.
import { parseArgs } from 'node:util';
import { read } from 'read';
import { ConfigError, loadConfig } from '../config.ts';
import type { Env } from '../env-reader.ts';
import { runCheck } from './check.ts';
import { EXIT, Report } from './report.ts';
import type { ExitCode } from './report.ts';
import { unknownVariableWarnings } from './check.ts';

export const USAGE = `usage: node services/auth/dist/main.js --check [--user NAME] [--repository NAME]

Checks the configuration in the environment against the directory: binds the service account on every
LDAP_URL, confirms both base DNs, resolves every group in AUTH_*_GROUPS, fetches the keys of every
issuer in OIDC_CONFIG_FILE and warns about unknown LDAP_* / AUTH_* / CACHE_* / LOCKOUT_* / OIDC_*
variables. With --user it logs in as NAME (password from the
prompt, or the first line of stdin) and prints the user's DN, groups and decisions on --repository
(default sample/app).

exit codes: 0 all passed · 1 warnings only · 2 invalid configuration · 3 directory unreachable ·
4 the directory does not fit the configuration · 5 the user's login was refused · 64 usage
`;

export const SAMPLE_REPOSITORY = 'sample/app';

async function readPassword(stdin: NodeJS.ReadStream, prompt: string): Promise<string> {
  if (stdin.isTTY) {
    return read({ prompt, silent: true, replace: '', input: stdin, output: process.stderr });
  }
  let text = '';
  for await (const chunk of stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

function usageError(message: string): ExitCode {
  process.stderr.write(`registry-ldap-auth --check: ${message}\n\n${USAGE}`);
  return EXIT.usage;
}

export async function runCheckCommand(args: readonly string[], env: Env = process.env): Promise<ExitCode> {
  if (args.some((a) => /^--pass(word)?(=|$)/.test(a)))
    return usageError('the password is never an argument: type it at the prompt or pipe it on stdin');
  let values: { check?: boolean; user?: string; repository?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        check: { type: 'boolean' },
        user: { type: 'string' },
        repository: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (values.check !== true) return usageError('the only command is --check');
  if (values.user === '') return usageError('--user needs a name');

  const report = new Report(process.stdout);
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    report.section('configuration');
    for (const problem of error.problems) report.fail(problem, EXIT.invalidConfig);
    for (const warning of unknownVariableWarnings(env)) report.warn(warning);
    return report.summary();
  }
  const user =
    values.user === undefined
      ? undefined
      : {
          login: values.user,
          password: await readPassword(process.stdin, `password for ${values.user}: `),
          repository: values.repository ?? SAMPLE_REPOSITORY,
        };
  if (user !== undefined && user.password === '') return usageError(`no password for ${user.login} on stdin`);
  await runCheck(config, env, report, user);
  return report.summary();
}
