// OCI image layouts built by hand (image-spec image-layout.md), so tests push real images with skopeo
// and no container engine. Layers are streamed to disk: a 1 GiB layer never sits in memory.
import { createHash, randomFillSync } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

const REF_NAME = 'org.opencontainers.image.ref.name';
const CHUNK = 1024 * 1024;
const BLOCK = 512; // tar record size (POSIX ustar)
// ustar's size field holds 11 octal digits.
const MAX_FILE_SIZE = 8 ** 11 - 1;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface OciLayer extends Descriptor {
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
  /** Bytes of file content inside the tar. */
  contentSize: number;
}

export interface OciImage {
  /** The layout directory. */
  dir: string;
  tag: string;
  /** skopeo transport reference, `oci:<dir>:<tag>`. */
  ref: string;
  manifest: Descriptor;
  config: Descriptor;
  layers: OciLayer[];
  /** Sum of the blob sizes a push uploads (layers + config + manifest). */
  totalBytes: number;
}

export interface OciImageOptions {
  tag?: string;
  /** File content size of each layer, in bytes; one file per layer, random content so every layer differs. */
  layerSizes: readonly number[];
}

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function blobPath(dir: string, digest: string): string {
  return join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

/** A POSIX ustar header for one regular file (mode 0644, uid/gid 0, mtime 0 for reproducible bytes). */
function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  const field = (offset: number, length: number, value: string) =>
    header.write(value, offset, length, 'ascii');
  const octal = (value: number, digits: number) => value.toString(8).padStart(digits, '0');
  field(0, 100, name);
  field(100, 8, `${octal(0o644, 7)}\0`);
  field(108, 8, `${octal(0, 7)}\0`);
  field(116, 8, `${octal(0, 7)}\0`);
  field(124, 12, `${octal(size, 11)}\0`);
  field(136, 12, `${octal(0, 11)}\0`);
  field(148, 8, ' '.repeat(8)); // the checksum is computed with its own field as spaces
  field(156, 1, '0');
  field(257, 8, 'ustar\u000000');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${octal(sum, 6)}\0 `);
  return header;
}

/** The tar stream of a single file of `size` random bytes, in 1 MiB chunks (pulled lazily by the pipeline). */
function* tarOfRandomFile(name: string, size: number): Generator<Buffer> {
  yield tarHeader(name, size);
  for (let left = size; left > 0; left -= CHUNK) {
    // A fresh buffer each time: downstream streams may still hold the previous one.
    yield randomFillSync(Buffer.allocUnsafe(Math.min(CHUNK, left)));
  }
  const padding = (BLOCK - (size % BLOCK)) % BLOCK;
  yield Buffer.alloc(padding + 2 * BLOCK); // end of archive: two zero records
}

function hashing(hash: Hash, count: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      count.bytes += chunk.length;
      callback(null, chunk);
    },
  });
}

async function writeLayer(dir: string, name: string, contentSize: number): Promise<OciLayer> {
  if (!Number.isSafeInteger(contentSize) || contentSize < 0 || contentSize > MAX_FILE_SIZE) {
    throw new Error(`layer size ${contentSize} is not between 0 and ${MAX_FILE_SIZE}`);
  }
  const tarHash = createHash('sha256');
  const gzHash = createHash('sha256');
  const tarBytes = { bytes: 0 };
  const gzBytes = { bytes: 0 };
  const partial = join(dir, 'blobs', 'sha256', `.partial-${name}`);
  await pipeline(
    Readable.from(tarOfRandomFile(name, contentSize)),
    hashing(tarHash, tarBytes),
    // Level 0 (stored): a real gzip stream that costs no CPU, so skopeo uploads it as is and a
    // benchmark measures the stack, not compression.
    createGzip({ level: 0 }),
    hashing(gzHash, gzBytes),
    createWriteStream(partial),
  );
  const digest = `sha256:${gzHash.digest('hex')}`;
  await rename(partial, blobPath(dir, digest));
  return {
    mediaType: MEDIA_TYPES.layer,
    digest,
    size: gzBytes.bytes,
    diffId: `sha256:${tarHash.digest('hex')}`,
    contentSize,
  };
}

async function writeJsonBlob(dir: string, mediaType: string, value: unknown): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = sha256(bytes);
  await writeFile(blobPath(dir, digest), bytes);
  return { mediaType, digest, size: bytes.length };
}

interface Index {
  schemaVersion: 2;
  mediaType: string;
  manifests: (Descriptor & { annotations?: Record<string, string> })[];
}

async function readIndex(dir: string): Promise<Index> {
  try {
    return JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as Index;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: [] };
    }
    throw error;
  }
}

/**
 * Writes an image with one layer per entry of `layerSizes` into the OCI layout `dir` (created if
 * needed) and tags it; several images can share one layout (each tag replaces an older one).
 */
export async function buildOciImage(dir: string, options: OciImageOptions): Promise<OciImage> {
  const tag = options.tag ?? 'latest';
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) throw new Error(`invalid tag ${tag}`);
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

  const layers: OciLayer[] = [];
  for (const [i, size] of options.layerSizes.entries()) {
    layers.push(await writeLayer(dir, `${tag}-layer-${i}.bin`, size));
  }
  const config = await writeJsonBlob(dir, MEDIA_TYPES.config, {
    created: new Date().toISOString(),
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  });
  const strip = ({ mediaType, digest, size }: Descriptor): Descriptor => ({ mediaType, digest, size });
  const manifest = await writeJsonBlob(dir, MEDIA_TYPES.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: strip(config),
    layers: layers.map(strip),
  });

  const index = await readIndex(dir);
  index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag);
  index.manifests.push({ ...manifest, annotations: { [REF_NAME]: tag } });
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));

  const totalBytes = layers.reduce((sum, l) => sum + l.size, config.size + manifest.size);
  return { dir, tag, ref: `oci:${dir}:${tag}`, manifest, config, layers, totalBytes };
}
