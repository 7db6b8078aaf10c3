// The scale-out simulation against what can be worked out by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectedPodsTouched, simulate, trace } from '../tools/scale-out.ts';
import type { Scenario } from '../tools/scale-out.ts';

const base: Scenario = {
  users: 50,
  pushesPerHour: 3,
  layers: 10,
  replicas: 3,
  ttlSeconds: 300,
  hours: 1,
  parallelUploads: 5,
  seed: 7,
};

describe('scale-out simulation', () => {
  it('costs the same in both layouts with one replica', () => {
    const r = simulate({ ...base, replicas: 1 });
    assert.equal(r.binds.perPod, r.binds.hashed);
  });

  it('binds once per user per TTL when hashed, however many replicas', () => {
    // A TTL longer than the trace: exactly one bind for each user who pushed at all.
    const scenario = { ...base, replicas: 6, ttlSeconds: 7200 };
    const pushers = new Set(trace(scenario).map((r) => r.user)).size;
    assert.ok(pushers > 0);
    assert.equal(simulate(scenario).binds.hashed, pushers);
  });

  it('binds on every pod a user’s connections reach when each pod caches on its own, as the formula says', () => {
    // A long TTL: each user binds once on each pod that any of their connections reached.
    const r = simulate({ ...base, users: 400, pushesPerHour: 0.5, ttlSeconds: 7200, replicas: 4 });
    assert.ok(r.binds.perPod > r.binds.hashed);
    assert.ok(r.binds.perPod <= 4 * r.binds.hashed);
    const oneUser = expectedPodsTouched(4, 6); // a single push: 6 connections over 4 pods
    const perUser = r.binds.perPod / r.binds.hashed;
    assert.ok(perUser >= oneUser * 0.95, `${perUser} pods per user, the formula gives at least ${oneUser}`);
  });

  it('replays the same trace for the same seed', () => {
    assert.deepEqual(simulate(base), simulate(base));
  });
});
