// A private network namespace joined to the host by one veth pair on a /30, for servers (Samba AD) that
// must not bind on, or talk to, anything but the test: the namespace has only `lo` and its veth end, and no
// default route, so nothing inside it can reach past the host side of the pair.
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from './process.ts';

export interface Netns {
  /** The namespace name, for `ip netns exec`. */
  readonly name: string;
  /** The host end of the veth pair: what servers in the namespace see as their peer. */
  readonly hostIp: string;
  /** The namespace end: the address servers inside bind to and tests connect to. */
  readonly nsIp: string;
  /** The veth interface inside the namespace (e.g. for Samba's `interfaces`). */
  readonly nsIf: string;
  /** `[command, args]` that run `cmd args` inside the namespace, for `startServer` or `spawn`. */
  wrap(cmd: string, args: readonly string[]): [string, string[]];
  /** Runs `cmd args` inside the namespace to completion (rejects with its output on a non-zero exit). */
  exec(
    cmd: string,
    args: readonly string[],
    options?: CommandOptions,
  ): Promise<{ stdout: string; stderr: string }>;
  /** Process ids still running inside the namespace. */
  pids(): Promise<number[]>;
  /** Ends whatever still runs inside (SIGTERM, then SIGKILL; bounded) and waits until it has exited. */
  killAll(): Promise<void>;
  /** killAll(), then deletes the namespace (which removes both veth ends). Idempotent. */
  destroy(): Promise<void>;
}

export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to stdin; without it stdin is /dev/null. */
  input?: string;
}

const ip = (args: readonly string[]) => run('ip', args);

// 10.213.0.0/16 cut into /30s: 16384 slots. A slot index names the veth pair, and `ip link add` fails if
// the name exists, which makes claiming a slot atomic between concurrent test runs.
const SLOTS = 16_384;
const ATTEMPTS = 20;

function slotAddresses(slot: number): { hostIp: string; nsIp: string } {
  const third = slot >> 6;
  const base = (slot & 63) << 2;
  return { hostIp: `10.213.${third}.${base + 1}`, nsIp: `10.213.${third}.${base + 2}` };
}

/** IPv4 addresses already configured on the host, so a slot never shadows an existing route. */
async function hostAddresses(): Promise<Set<string>> {
  const { stdout } = await ip(['-4', '-o', 'addr', 'show']);
  return new Set([...stdout.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1] ?? ''));
}

let lastFailure: unknown;

async function tryIp(args: string[]): Promise<boolean> {
  try {
    await ip(args);
    return true;
  } catch (error) {
    lastFailure = error; // the caller treats the slot as taken and tries another; reported if all fail
    return false;
  }
}

/** Creates `<prefix>-<slot>` with `lo` up and a veth pair on a free /30 in 10.213.0.0/16. */
export async function createNetns(prefix: string): Promise<Netns> {
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(prefix))
    throw new Error(`invalid netns prefix ${JSON.stringify(prefix)}`);
  const used = await hostAddresses();
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const slot = randomInt(SLOTS);
    const { hostIp, nsIp } = slotAddresses(slot);
    if (used.has(hostIp) || used.has(nsIp)) continue;
    // Interface names are limited to 15 characters (IFNAMSIZ).
    const hostIf = `rlah${slot}`;
    const nsIf = `rlan${slot}`;
    const name = `${prefix}-${slot}`;
    if (!(await tryIp(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]))) continue;
    if (!(await tryIp(['netns', 'add', name]))) {
      await ip(['link', 'del', hostIf]);
      continue;
    }
    const ns = makeNetns(name, hostIp, nsIp, nsIf);
    try {
      await ip(['link', 'set', nsIf, 'netns', name]);
      await ip(['addr', 'add', `${hostIp}/30`, 'dev', hostIf]);
      await ip(['link', 'set', hostIf, 'up']);
      await ip(['-n', name, 'addr', 'add', `${nsIp}/30`, 'dev', nsIf]);
      await ip(['-n', name, 'link', 'set', nsIf, 'up']);
      await ip(['-n', name, 'link', 'set', 'lo', 'up']);
    } catch (error) {
      await ns.destroy();
      await tryIp(['link', 'del', hostIf]); // gone already if the peer had moved into the namespace
      throw error;
    }
    return ns;
  }
  throw new Error(`no free /30 in 10.213.0.0/16 after ${ATTEMPTS} attempts; last: ${String(lastFailure)}`);
}

function makeNetns(name: string, hostIp: string, nsIp: string, nsIf: string): Netns {
  const wrap = (cmd: string, args: readonly string[]): [string, string[]] => [
    'ip',
    ['netns', 'exec', name, cmd, ...args],
  ];
  const pids = async (): Promise<number[]> => {
    const { stdout } = await ip(['netns', 'pids', name]);
    return stdout.split(/\s+/).filter(Boolean).map(Number);
  };
  // Everything inside was started by this test: SIGTERM, then SIGKILL, with bounded waits.
  const killAll = async (): Promise<void> => {
    if (
      !(await signalUntilEmpty(pids, 'SIGTERM', 5000)) &&
      !(await signalUntilEmpty(pids, 'SIGKILL', 5000))
    ) {
      throw new Error(`processes still running in netns ${name}: ${(await pids()).join(' ')}`);
    }
  };
  return {
    name,
    hostIp,
    nsIp,
    nsIf,
    wrap,
    async exec(cmd, args, options) {
      const [command, fullArgs] = wrap(cmd, args);
      return run(command, fullArgs, options);
    },
    pids,
    killAll,
    async destroy() {
      try {
        await pids();
      } catch {
        return; // the namespace no longer exists: destroy() is idempotent
      }
      await killAll();
      await ip(['netns', 'del', name]);
    },
  };
}

/** Sends `signal` to every pid in the namespace, then waits up to `timeoutMs` for it to empty. */
async function signalUntilEmpty(
  pids: () => Promise<number[]>,
  signal: NodeJS.Signals,
  timeoutMs: number,
): Promise<boolean> {
  for (const pid of await pids()) {
    try {
      process.kill(pid, signal);
    } catch {
      // exited between listing and signalling
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await pids()).length === 0) return true;
    await sleep(50);
  }
  return false;
}
