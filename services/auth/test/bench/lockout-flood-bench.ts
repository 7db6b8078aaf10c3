// CPU of a flood of new keys into a full lockout table: refused CI job tokens from rotating IPv6 networks
// (a new /64 each, as from a /32), one new address counter each, nothing asked of the directory. Each new key evicts the
// least recently used. A Map-backed LRU that looked for its oldest key with a new iterator walked the hole
// every earlier eviction left, so each new key cost in proportion to the table's size (26 times as much
// at 100 000 keys as at 1 000); keeping the iterator between evictions makes the cost flat (about 3 times,
// from memory locality alone). Prints CPU time per new key for both sizes and their ratio, median of the
// rounds, same process.
// Usage: node test/bench/lockout-flood-bench.ts [--rounds 5]
import { parseArgs } from 'node:util';
import { Lockout } from '../../src/lockout.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const ROUNDS = Number(values.rounds);
const FLOOD = 100_000;

/** CPU time (user + system, µs) per new address once a table of `maxKeys` is full. */
function floodCost(maxKeys: number): number {
  const lockout = new Lockout({ maxFailures: 5, windowSeconds: 60, durationSeconds: 60, maxKeys });
  const flood = (from: number, count: number): void => {
    for (let i = from; i < from + count; i++)
      lockout.recordAddressFailure(`2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`);
  };
  flood(0, maxKeys); // full: every new address from here evicts one
  const start = process.cpuUsage();
  flood(1_000_000, FLOOD);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / FLOOD;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN;
const small: number[] = [];
const large: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  small.push(floodCost(1000));
  large.push(floodCost(100_000));
}
console.log(
  `new key into a full table: ${median(small).toFixed(2)} µs of CPU at 1 000 keys, ` +
    `${median(large).toFixed(2)} µs at 100 000 (ratio ${(median(large) / median(small)).toFixed(1)}, ` +
    `median of ${ROUNDS} rounds)`,
);
