/**
 * The chunk codec: plaintext → id → compressed → (sealed) stored bytes, and
 * back. A codec is built from a plain-data {@linkcode CodecConfig} so the
 * same pipeline runs on the main thread and in the codec Workers.
 *
 * @module
 */

import { createHash, createHmac } from "node:crypto";
import * as zlib from "node:zlib";
import { Corrupt } from "../errors.ts";
import type { ChunkMeta } from "./api.ts";

/** Bits of `chunks.codec`: how a chunk's stored bytes were made. */
export const Codec = { Zstd: 1, Sealed: 2 } as const;

/**
 * Seals and opens stored chunk bytes. The encryption layer provides one;
 * a volume without encryption has none.
 */
export interface Sealer {
  /** Seals `data`, binding it to the associated data `ad`. */
  seal(data: Uint8Array, ad: Uint8Array): Uint8Array;
  /** Opens sealed bytes; throws {@linkcode Corrupt} when they were altered. */
  open(data: Uint8Array, ad: Uint8Array): Uint8Array;
}

/** Everything a Worker needs to rebuild a volume's codec. */
export interface CodecConfig {
  /** Identifies this configuration in Worker caches. */
  readonly id: string;
  /** zstd level; 0 stores chunks uncompressed. */
  readonly level: number;
  /** When set, chunk ids are HMAC-SHA256 under this key instead of SHA-256. */
  readonly idKey?: Uint8Array;
  /** When set, stored bytes are sealed under this key (see `crypto.ts`). */
  readonly sealKey?: Uint8Array;
  /** Bound into every seal, so a chunk cannot move between volumes. */
  readonly volumeId: number;
  /** When true, chunk ids are random: no two chunks are ever shared. */
  readonly noDedup?: boolean;
  /**
   * The store file: a Worker opens it read-only to skip compressing and
   * sealing chunks the volume holds already.
   */
  readonly storePath?: string;
}

/** One chunk ready to store. */
export interface EncodedChunk {
  /** The chunk id (32 bytes). */
  hash: Uint8Array;
  /** The stored bytes. */
  data: Uint8Array;
  /** {@linkcode Codec} bits describing `data`. */
  codec: number;
  /** Plaintext length. */
  size: number;
  /** CRC-32 of the plaintext, checked on every read; null when sealed. */
  crc: number | null;
  /** True when encoding stopped at the id because the chunk is stored. */
  known?: boolean;
}

/** Bytes sampled (three windows) to decide whether compressing is worth it. */
const PROBE = 8192;

/** Builds a {@linkcode Sealer} from a key; registered by the crypto layer. */
export type SealerFactory = (key: Uint8Array) => Sealer;
let sealerFactory: SealerFactory | undefined;

/** Registers how sealed codecs get their {@linkcode Sealer}. */
export function registerSealer(factory: SealerFactory): void {
  sealerFactory = factory;
}

const ZSTD_LEVEL = zlib.constants.ZSTD_c_compressionLevel;

function bytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** A volume's chunk pipeline. */
const histogram = new Int32Array(256);
/** Incompressible chunks up to this size are encoded without asking whether they are known. */
const ASK_SMALL_BYTES = 16 << 10;

/**
 * True when the bytes' order-0 entropy is near 8 bits a byte (random,
 * encrypted or compressed data): a small chunk's stand-in for the zstd
 * probe, which would cost more than compressing it.
 */
function highEntropy(plain: Uint8Array): boolean {
  if (plain.length < 2048) return false;
  // Every fourth byte (at most 8,192 samples): enough to tell random from
  // text, at a fraction of the cost.
  const step = Math.max(4, Math.floor(plain.length / 8192));
  histogram.fill(0);
  let n = 0;
  for (let i = 0; i < plain.length; i += step, n++) histogram[plain[i]]++;
  let sum = 0;
  for (let i = 0; i < 256; i++) {
    const c = histogram[i];
    if (c) sum += c * Math.log2(c);
  }
  // Random bytes score 7.8 bits a byte or more on 512 samples; text 4-5.
  return Math.log2(n) - sum / n > 7.5;
}

export class ChunkCodec {
  readonly config: CodecConfig;
  readonly #sealer?: Sealer;
  readonly #zstdOptions: zlib.ZstdOptions;

  /**
   * @example Round-trip a chunk
   * ```ts
   * import assert from "node:assert/strict";
   * import { ChunkCodec } from "./codec.ts";
   * const codec = new ChunkCodec({ id: "v1", level: 3, volumeId: 1 });
   * const plain = new TextEncoder().encode("hello ".repeat(100));
   * const enc = codec.encode(plain);
   * const back = codec.decode(enc.data, enc, { rehash: true });
   * assert(back.length === plain.length && enc.data.length < plain.length);
   * ```
   */
  constructor(config: CodecConfig) {
    this.config = config;
    this.#zstdOptions = { params: { [ZSTD_LEVEL]: config.level } };
    if (config.sealKey) {
      if (!sealerFactory) throw new Error("no sealer registered");
      this.#sealer = sealerFactory(config.sealKey);
    }
  }

  /** True when stored bytes are sealed. */
  get sealed(): boolean {
    return this.#sealer !== undefined;
  }

  /** The chunk id of some plaintext. */
  hash(plain: Uint8Array): Uint8Array {
    if (this.config.noDedup) return crypto.getRandomValues(new Uint8Array(32));
    const h = this.config.idKey ? createHmac("sha256", this.config.idKey) : createHash("sha256");
    return new Uint8Array(h.update(plain).digest());
  }

  #ad(hash: Uint8Array): Uint8Array {
    const ad = new Uint8Array(8 + hash.length);
    new DataView(ad.buffer).setBigUint64(0, BigInt(this.config.volumeId));
    ad.set(hash, 8);
    return ad;
  }

  /**
   * True when compressing is unlikely to pay: the bytes look uniform and
   * zstd level 1 on three small windows barely shrinks them (random,
   * encrypted or already compressed data), which saves compressing the
   * whole chunk in vain.
   */
  #incompressible(plain: Uint8Array): boolean {
    // Bytes far from uniform always compress (entropy coding alone pays);
    // near-uniform ones may still repeat, which only the probe can tell.
    const uniform = highEntropy(plain);
    if (!uniform || plain.length < 8 * PROBE) return uniform;
    const mid = (plain.length >> 1) - (PROBE >> 1);
    const sample = new Uint8Array(3 * PROBE);
    sample.set(plain.subarray(0, PROBE), 0);
    sample.set(plain.subarray(mid, mid + PROBE), PROBE);
    sample.set(plain.subarray(plain.length - PROBE), 2 * PROBE);
    const z = zlib.zstdCompressSync(sample, { params: { [ZSTD_LEVEL]: 1 } });
    return z.length > sample.length * 0.97;
  }

  /**
   * Hashes, compresses when that helps, and seals a chunk. When `known`
   * says the volume already holds a chunk with this id, the costly steps
   * are skipped and the result carries no data (the caller reuses the
   * stored chunk); it is not asked about a small chunk that would not be
   * compressed anyway.
   */
  encode(plain: Uint8Array, known?: (hash: Uint8Array) => boolean): EncodedChunk {
    const hash = this.hash(plain);
    const stored = (): EncodedChunk => ({
      hash,
      data: new Uint8Array(0),
      codec: 0,
      size: plain.length,
      crc: null,
      known: true,
    });
    // A big chunk is asked about first: a known one skips even the probe.
    const big = plain.length > ASK_SMALL_BYTES;
    if (big && known?.(hash)) return stored();
    const compress = this.config.level > 0 && plain.length >= 64 && !this.#incompressible(plain);
    // Asking pays when it can spare compressing; a small incompressible
    // chunk costs less to encode than the question.
    if (!big && compress && known?.(hash)) return stored();
    let data = plain;
    let codec = 0;
    if (compress) {
      const z = zlib.zstdCompressSync(plain, this.#zstdOptions);
      if (z.length < plain.length) {
        data = bytes(z);
        codec |= Codec.Zstd;
      }
    }
    const crc = this.#sealer ? null : zlib.crc32(plain);
    if (this.#sealer) {
      data = this.#sealer.seal(data, this.#ad(hash));
      codec |= Codec.Sealed;
    }
    return { hash, data, codec, size: plain.length, crc };
  }

  /**
   * Opens and decompresses stored bytes, and checks them: sealed chunks by
   * their AEAD tag, others by the plaintext's CRC-32, and with `rehash`
   * also by recomputing the chunk id. Any mismatch is {@linkcode Corrupt};
   * wrong bytes are never returned.
   */
  decode(data: Uint8Array, meta: ChunkMeta, options: { rehash?: boolean } = {}): Uint8Array {
    const { codec, hash, size, crc } = meta;
    let plain = data;
    if (codec & Codec.Sealed) {
      if (!this.#sealer) throw new Corrupt("chunk is sealed but the volume has no key");
      plain = this.#sealer.open(plain, this.#ad(hash));
    } else if (this.#sealer) {
      throw new Corrupt("chunk of an encrypted volume is not sealed");
    }
    if (codec & Codec.Zstd) {
      try {
        plain = bytes(zlib.zstdDecompressSync(plain, { maxOutputLength: Math.max(size, 1) }));
      } catch (e) {
        throw new Corrupt("chunk does not decompress", undefined, { cause: e });
      }
    }
    if (plain.length !== size) {
      throw new Corrupt(`chunk holds ${plain.length} bytes, expected ${size}`);
    }
    if (crc !== null && zlib.crc32(plain) !== crc) {
      throw new Corrupt("chunk fails its checksum");
    }
    if (crc === null && !(codec & Codec.Sealed)) {
      throw new Corrupt("chunk has neither a checksum nor a seal");
    }
    if (options.rehash && !this.config.noDedup && !equal(this.hash(plain), hash)) {
      throw new Corrupt("chunk does not match its id");
    }
    return plain;
  }
}
