import { createHash, type Hash } from 'node:crypto';
import { TUS_CHECKSUM_ALGORITHMS, type TusChecksumAlgorithm } from '../../api/index.js';
import { GatewayError } from '../../errors.js';

/** An `Upload-Checksum` header: the algorithm and the digest the bytes must have. */
export interface Checksum {
  algorithm: TusChecksumAlgorithm;
  digest: Buffer;
}

const DIGEST_BYTES: Record<TusChecksumAlgorithm, number> = { sha256: 32, sha1: 20 };
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses `Upload-Checksum: <algorithm> <base64>`; undefined without the header, 400 when it is malformed or unknown. */
export function parseChecksum(header: string | undefined): Checksum | undefined {
  if (header === undefined) return undefined;
  const [algorithm, encoded, ...rest] = header.trim().split(' ');
  if (!(TUS_CHECKSUM_ALGORITHMS as readonly string[]).includes(algorithm!)) {
    throw new GatewayError('GW_ERR_BAD_REQUEST', `Upload-Checksum uses an unknown algorithm "${algorithm?.slice(0, 20)}": use one of ${TUS_CHECKSUM_ALGORITHMS.join(', ')}`);
  }
  const known = algorithm as TusChecksumAlgorithm;
  const digest = encoded !== undefined && rest.length === 0 && BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
  if (digest?.length !== DIGEST_BYTES[known]) {
    throw new GatewayError('GW_ERR_BAD_REQUEST', `Upload-Checksum must be "${known} <base64 of the ${DIGEST_BYTES[known]}-byte digest>"`);
  }
  return { algorithm: known, digest };
}

/** Hashes bytes as they pass, for one Upload-Checksum. */
export class ChecksumCheck {
  readonly #expected: Checksum;
  readonly #hash: Hash;

  constructor(expected: Checksum) {
    this.#expected = expected;
    this.#hash = createHash(expected.algorithm);
  }

  /** Passes `chunks` through unchanged, hashing each. */
  async *through(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      this.#hash.update(chunk);
      yield chunk;
    }
  }

  /** 460 unless the bytes seen match the expected digest. */
  verify(): void {
    const actual = this.#hash.digest();
    if (!actual.equals(this.#expected.digest)) {
      const { algorithm, digest } = this.#expected;
      throw new GatewayError('GW_ERR_CHECKSUM_MISMATCH', `Checksum mismatch: the chunk's ${algorithm} is ${actual.toString('base64')}, Upload-Checksum said ${digest.toString('base64')}; nothing of it was stored: send it again`);
    }
  }
}
