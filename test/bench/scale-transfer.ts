// A big layer pushed and pulled with skopeo through nginx with the sidecar and through the same nginx
// config without auth, interleaved, each push to a repository of its own (the registry answers a blob HEAD
// per repository, so every push uploads the whole layer) and every pull removed before the next: the disk
// holds the image layout, the registry's one copy of the blob and at most one pulled copy.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OciImage } from '@registry-ldap-auth/stack/oci-image';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';
import type { Credentials, Skopeo } from '@registry-ldap-auth/stack/skopeo';
import { metricSum } from './scale-load.ts';

export type TransferVariant = 'none' | 'sidecar';

export interface TransferRun {
  round: number;
  variant: TransferVariant;
  pushSeconds: number;
  pullSeconds: number;
  /** Auth decisions the sidecar made for this push + pull (0 for `none`). */
  decisions: number;
}

export interface TransferOptions {
  image: OciImage;
  skopeo: Skopeo;
  sidecar: Sidecar;
  ports: Record<TransferVariant, number>;
  creds: Credentials;
  rounds: number;
  /** Scratch space for pulls; emptied after each. */
  dir: string;
  timeoutMs: number;
}

const decisions = async (sidecar: Sidecar): Promise<number> =>
  metricSum(await (await fetch(`${sidecar.metricsUrl}/metrics`)).text(), 'registry_auth_decisions_total');

export async function transfer(o: TransferOptions): Promise<TransferRun[]> {
  const runs: TransferRun[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const order: TransferVariant[] = round % 2 === 1 ? ['none', 'sidecar'] : ['sidecar', 'none'];
    for (const variant of order) {
      const target = `127.0.0.1:${o.ports[variant]}/big/${variant}-r${round}:${o.image.tag}`;
      const before = await decisions(o.sidecar);
      await o.skopeo.clearBlobInfoCache();
      const push = await o.skopeo.push(o.image, target, o.creds, { timeoutMs: o.timeoutMs });
      if (push.code !== 0) throw new Error(`push to ${target} failed:\n${push.stderr}`);
      const pulled = join(o.dir, `pull-${variant}-${round}`);
      try {
        const pull = await o.skopeo.pull(target, pulled, o.creds, { timeoutMs: o.timeoutMs });
        if (pull.code !== 0) throw new Error(`pull of ${target} failed:\n${pull.stderr}`);
        runs.push({
          round,
          variant,
          pushSeconds: push.durationMs / 1000,
          pullSeconds: pull.durationMs / 1000,
          decisions: (await decisions(o.sidecar)) - before,
        });
      } finally {
        await rm(pulled, { recursive: true, force: true });
      }
    }
  }
  return runs;
}
