// A 1 GiB layer through nginx both ways: streamed (no request-body temp file, nothing spooled), intact, and
// without the sidecar's memory moving, since it only ever sees headers.
import assert from 'node:assert/strict';
import { access, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildOciImage } from '@registry-ldap-auth/stack/oci-image';
import type { OciImage } from '@registry-ldap-auth/stack/oci-image';
import { listStorage } from '@registry-ldap-auth/stack/registry';
import { readPulledImage } from '@registry-ldap-auth/stack/skopeo';
import { creds, startE2e } from './support/fixture.ts';
import type { E2e } from './support/fixture.ts';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
// ~12 s each way on a 2-core machine; the limit only keeps a stuck transfer from hanging the run.
const TRANSFER_TIMEOUT_MS = 60_000;
const MAX_SIDECAR_GROWTH = 50 * MIB;

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) * 1024;
}

/** Paths under `dir` that the processes `pids` hold open (a deleted file shows as `… (deleted)`). */
async function openFilesUnder(pids: readonly number[], dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []); // the process may be gone: nothing open
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''); // closed meanwhile
      if (target.startsWith(`${dir}/`)) found.push(target);
    }
  }
  return found;
}

async function nginxWorkers(prefix: string): Promise<number[]> {
  const master = (await readFile(join(prefix, 'nginx.pid'), 'utf8')).trim();
  const children = await readFile(`/proc/${master}/task/${master}/children`, 'utf8');
  return children
    .split(' ')
    .filter((p) => p !== '')
    .map(Number);
}

interface Watch {
  maxRss: number;
  samples: number;
  /** Files seen in, or held open by nginx's workers under, nginx's temp dir at any sample. */
  tempFiles: Set<string>;
}

/**
 * Samples the sidecar's RSS and nginx's temp dir every 100 ms while `work` runs. nginx unlinks a request
 * body temp file right after creating it (ngx_open_tempfile), so the open descriptors of its workers are
 * the evidence, the directory listing only a second look.
 */
async function watching<T>(pid: number, nginxPrefix: string, work: () => Promise<T>) {
  const watch: Watch = { maxRss: 0, samples: 0, tempFiles: new Set() };
  const tempDir = join(nginxPrefix, 'temp');
  const workers = await nginxWorkers(nginxPrefix);
  if (workers.length === 0) throw new Error('no nginx worker to watch');
  const sample = async (): Promise<void> => {
    watch.maxRss = Math.max(watch.maxRss, await rssBytes(pid));
    for (const f of await listStorage(tempDir)) watch.tempFiles.add(join(tempDir, f));
    for (const f of await openFilesUnder(workers, tempDir)) watch.tempFiles.add(f);
    watch.samples++;
  };
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return; // never overlap samples on a loaded machine
    busy = true;
    void sample().finally(() => (busy = false));
  }, 100);
  try {
    const result = await work();
    await sample();
    return { result, watch };
  } finally {
    clearInterval(timer);
  }
}

/** The transfer was observed, nginx wrote no request-body temp file, and the sidecar's RSS stayed flat. */
function assertStreamedFlat(watch: Watch, baseline: number): void {
  assert.ok(watch.samples >= 10, `only ${watch.samples} samples: the transfer was not observed`);
  assert.deepEqual([...watch.tempFiles], []);
  const growth = watch.maxRss - baseline;
  console.log(`${watch.samples} samples, sidecar RSS +${(growth / MIB).toFixed(1)} MiB at most`);
  assert.ok(growth < MAX_SIDECAR_GROWTH, `sidecar RSS grew by ${(growth / MIB).toFixed(1)} MiB`);
}

void describe('a 1 GiB layer through nginx', { timeout: 90_000 }, () => {
  let e2e: E2e;
  let teardown: (() => Promise<void>) | undefined;
  let image: OciImage;
  let sidecarPid: number;
  let tempDirs: string[];
  let baseline: number;

  before(async () => {
    ({ e2e, teardown } = await startE2e({ nginxWorkers: 1 }));
    image = await buildOciImage(join(e2e.work, 'oci'), { tag: 'big', layerSizes: [GIB, 4096] });
    sidecarPid = e2e.stack.sidecar.server.child.pid ?? -1;
    const { clientBodyTempDir, prefix } = e2e.stack.nginx;
    tempDirs = [clientBodyTempDir, join(prefix, 'temp', 'proxy')];
    // nginx creates its temp dirs at start: an absent dir would make "empty" meaningless.
    for (const dir of tempDirs) await access(dir);
    baseline = await rssBytes(sidecarPid);
  });
  after(async () => {
    await teardown?.();
  });

  const ref = (): string => `${e2e.stack.host}/big/layer:v1`;

  void test('alice pushes it: no request-body temp file in nginx, the sidecar stays flat', async () => {
    const { result: push, watch } = await watching(sidecarPid, e2e.stack.nginx.prefix, () =>
      e2e.skopeo.push(image, ref(), creds('alice'), { timeoutMs: TRANSFER_TIMEOUT_MS }),
    );
    assert.equal(push.code, 0, push.stderr);
    assertStreamedFlat(watch, baseline);
    const big = image.layers[0]?.digest ?? '';
    assert.ok((await e2e.stack.registry.blobDigests()).includes(big));
  });

  void test('alice pulls it back intact, again without temp files', async () => {
    const dest = join(e2e.work, 'pulled');
    const { result: pull, watch } = await watching(sidecarPid, e2e.stack.nginx.prefix, () =>
      e2e.skopeo.pull(ref(), dest, creds('alice'), { timeoutMs: TRANSFER_TIMEOUT_MS }),
    );
    assert.equal(pull.code, 0, pull.stderr);
    assertStreamedFlat(watch, baseline);
    // readPulledImage re-hashes every blob, the 1 GiB one included.
    const { manifest } = await readPulledImage(dest);
    assert.deepEqual(
      manifest.layers.map((l) => [l.digest, l.size]),
      image.layers.map((l) => [l.digest, l.size]),
    );
  });

  void test("nginx's error log never mentions a body buffered to a temporary file", async () => {
    const log = await readFile(e2e.stack.nginx.errorLog, 'utf8');
    // nginx deletes its temp files when the request ends but warns each time it writes one.
    assert.doesNotMatch(log, /buffered to a temporary file/);
    assert.deepEqual((await Promise.all(tempDirs.map((d) => listStorage(d)))).flat(), []);
  });
});
