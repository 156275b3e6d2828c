import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';
import { clientGone } from './wait-line.js';

/** Transfers one client address may have under way (or waiting) at once, unless configured otherwise. */
export const DEFAULT_MAX_TRANSFERS_PER_ADDRESS = 16;

/** What a client refused for holding too many transfers is told to wait, in seconds. */
export const TRANSFER_RETRY_AFTER_SECONDS = 5;

/**
 * Transfers (downloads and uploads, each with its own tor-server connection) one client
 * address may have under way or waiting at once, so that one address (a download
 * accelerator, or someone reading just fast enough not to be cut) cannot hold every
 * connection the gateway may open for transfers.
 */
export class TransferLimit {
  readonly perAddress: number;
  readonly #counts = new Map<string, number>();
  readonly #onEnter: ((request: FastifyRequest, reply: FastifyReply) => void) | undefined;

  /** `onEnter` hears of each transfer counted (the metrics' transfers in progress). */
  constructor(perAddress: number, onEnter?: (request: FastifyRequest, reply: FastifyReply) => void) {
    if (!Number.isSafeInteger(perAddress) || perAddress < 1) throw new Error('TransferLimit: perAddress must be at least 1');
    this.perAddress = perAddress;
    this.#onEnter = onEnter;
  }

  /** Transfers counted for `address` now. */
  count(address: string): number {
    return this.#counts.get(address) ?? 0;
  }

  /** Counts a transfer for the request's address until its response closes; 429 (with Retry-After) past the limit. */
  enter(request: FastifyRequest, reply: FastifyReply): void {
    const address = request.ip;
    const count = this.count(address);
    // Behind a reverse proxy every browser has the proxy's address: raise the limit there.
    if (count >= this.perAddress) {
      reply.header('retry-after', String(TRANSFER_RETRY_AFTER_SECONDS));
      throw new GatewayError(
        'GW_ERR_TOO_MANY_TRANSFERS',
        `too many transfers from ${address.slice(0, 45)} at once (limit ${this.perAddress} per address); wait for one to finish`,
      );
    }
    // Its 'close' has been and gone: nothing would ever count it out.
    if (reply.raw.destroyed) throw clientGone();
    this.#counts.set(address, count + 1);
    reply.raw.once('close', () => {
      const left = this.count(address) - 1;
      if (left > 0) this.#counts.set(address, left);
      else this.#counts.delete(address);
    });
    this.#onEnter?.(request, reply);
  }
}
