import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';

/**
 * The Redis side of `globals.high_availability`: one lease key per collector (its persistence prefix), a
 * fencing counter that only ever grows, and the Lua scripts that read and write them atomically. Every
 * replica of one config competes for the same lease; the holder's token is the counter's value when it
 * took the lease, so a later holder always has a larger token than any earlier one.
 */

/** Keys of the lease, next to (but never listed among) the service states. */
export function leaseKeys(prefix: string): { lease: string; fence: string; writers: string } {
  return { lease: `${prefix}${HA_KEY_MARK}lease`, fence: `${prefix}${HA_KEY_MARK}fence`, writers: `${prefix}${HA_KEY_MARK}writers` };
}
/** Marks the lease's own keys: `RedisStateStore.keys()` leaves them out. */
export const HA_KEY_MARK = '__ha__:';

/** KEYS: lease, fence. ARGV: holder, ttl ms. Takes a free lease with the next token; 0 when it is held. */
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. '|' .. ARGV[1], 'PX', ARGV[2])
return token`;

/** KEYS: lease. ARGV: value, ttl ms. Extends the lease only while it is still ours. */
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/** KEYS: lease. ARGV: value. Gives the lease up (graceful stop) only if it is still ours. */
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`;

/**
 * KEYS: lease, writers, state. ARGV: lease value, token, JSON (empty: delete). The fenced write: the state
 * changes only while the lease holds exactly this holder's value, checked inside Redis in the same atomic
 * step. The writers hash records which token wrote each state last (`--show-state`, tests).
 */
export const FENCED_WRITE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '' then redis.call('DEL', KEYS[3]) else redis.call('SET', KEYS[3], ARGV[3]) end
redis.call('HSET', KEYS[2], KEYS[3], ARGV[2])
return 1`;

/** What `--show-state` and `/ready` say about the lease. */
export interface LeaseHolder {
  holder: string;
  token: number;
  /** Milliseconds until the lease lapses unless renewed. */
  expires_in_ms: number;
}

export interface LeaseTerm {
  /** Lease value in Redis: `<token>|<holder>`. */
  value: string;
  token: number;
}

/** Reads who holds the lease (no lease: undefined). */
export async function readLeaseHolder(client: Redis, prefix: string): Promise<LeaseHolder | undefined> {
  const { lease } = leaseKeys(prefix);
  const [value, ttl] = await Promise.all([client.get(lease), client.pttl(lease)]);
  if (value === null) return undefined;
  const bar = value.indexOf('|');
  return { holder: value.slice(bar + 1), token: Number(value.slice(0, bar)), expires_in_ms: Math.max(0, ttl) };
}

/**
 * One replica's claim on the lease. `validUntil` is on the monotonic clock (it keeps running while the
 * process is stopped): it is the send time of the last successful acquire/renew plus the term minus a
 * margin, so this replica considers the lease gone before Redis can hand it to anyone else.
 */
export class RedisLease {
  private term: LeaseTerm | undefined;
  private validUntil = 0;
  readonly ttlMs: number;
  /** Taken off the term locally: clock-rate differences and the time a reply takes to be handled. */
  readonly marginMs: number;

  constructor(
    private readonly client: () => Promise<Redis>,
    private readonly prefix: string,
    readonly holder: string,
    leaseSeconds: number,
  ) {
    this.ttlMs = leaseSeconds * 1000;
    this.marginMs = Math.max(200, this.ttlMs / 10);
  }

  /** The term while it is valid by the local clock; undefined once it may have lapsed. */
  current(): LeaseTerm | undefined {
    return this.term && performance.now() < this.validUntil ? this.term : undefined;
  }

  /** Milliseconds until the local validity ends (0 when not held). */
  remainingMs(): number {
    return this.term ? Math.max(0, this.validUntil - performance.now()) : 0;
  }

  async tryAcquire(): Promise<boolean> {
    const sentAt = performance.now();
    const redis = await this.client();
    const token = Number(await redis.eval(ACQUIRE, 2, leaseKeys(this.prefix).lease, leaseKeys(this.prefix).fence, this.holder, this.ttlMs));
    if (!token) return false;
    this.term = { value: `${token}|${this.holder}`, token };
    this.validUntil = sentAt + this.ttlMs - this.marginMs;
    return true;
  }

  /** True when the lease is still ours and now runs a full term again; false when Redis gave it away. */
  async renew(): Promise<boolean> {
    const term = this.term;
    if (!term) return false;
    const sentAt = performance.now();
    const redis = await this.client();
    const renewed = Number(await redis.eval(RENEW, 1, leaseKeys(this.prefix).lease, term.value, this.ttlMs)) === 1;
    if (renewed && this.term === term) this.validUntil = Math.max(this.validUntil, sentAt + this.ttlMs - this.marginMs);
    return renewed;
  }

  /**
   * Forgets the term locally at once: nothing may be sent or written from here on, and a renewal still in
   * flight cannot bring it back (it only extends the term it was sent for).
   */
  drop(): void {
    this.term = undefined;
    this.validUntil = 0;
  }

  /** Drops the term and deletes the lease in Redis if it is still ours, so a standby takes over at once. */
  async release(): Promise<void> {
    const term = this.term;
    this.drop();
    if (!term) return;
    const redis = await this.client();
    await redis.eval(RELEASE, 1, leaseKeys(this.prefix).lease, term.value);
  }
}
