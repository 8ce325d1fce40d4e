import { hostname } from 'node:os';
import { Gauge, type Registry } from 'prom-client';
import type { CollectorConfig } from '../config/load-config.js';
import type { Delivery, Output } from '../delivery/types.js';
import { eventCount } from '../delivery/encoded-batch.js';
import { ConfigError, PersistenceError, describeError } from '../errors/collector-error.js';
import { RedisLease, readLeaseHolder, type LeaseHolder } from '../persistence/redis-lease.js';
import { LEASE_LOST_ERROR, type RedisStateStore } from '../persistence/redis-store.js';
import type { Logger } from '../telemetry/logger.js';
import { sleep } from './abortable-sleep.js';
import type { CollectorDefinition } from './definitions.js';

/** `globals.high_availability` (SDK README, High availability). */
export interface HighAvailabilityConfig {
  enabled: boolean;
  lease_seconds: number;
}

/** ConfigError ID: high availability configured without Redis persistence. */
export const HA_NEEDS_REDIS_ERROR = 30;
/** PersistenceError ID: `--once` found another replica holding the lease. */
export const LEASE_HELD_ERROR = 521;

/**
 * The high-availability settings that apply, or undefined when off. Throws ConfigError 30 when they cannot
 * work (the lease and the fenced writes live in Redis). A durable source (SQS) already shares its work
 * between replicas: the setting is ignored there, with a warning, and every replica consumes.
 */
export function highAvailabilityOf(config: CollectorConfig, definition: CollectorDefinition, log: Logger): HighAvailabilityConfig | undefined {
  const ha = config.globals['high_availability'] as HighAvailabilityConfig | undefined;
  if (!ha?.enabled) return undefined;
  if (definition.durableSource) {
    log.warning(
      'Setting <globals.high_availability> is ignored: this source is a shared queue, so every replica consumes from it at once and each message is deleted by the replica that delivered it',
    );
    return undefined;
  }
  if (config.globals.persistence.type !== 'redis') {
    throw new ConfigError(
      HA_NEEDS_REDIS_ERROR,
      `High availability needs Redis persistence (globals.persistence.type: redis), where the replicas share the lease and the state; the persistence is ${config.globals.persistence.type}`,
      { path: 'globals.high_availability.enabled' },
    );
  }
  return ha;
}

export type Role = 'standby' | 'leader' | 'lost';

/**
 * Active/standby between replicas of one config. A standby polls for the free lease; the leader renews it
 * every third of its term and loses it the moment a renewal is refused or the term runs out unrenewed
 * (Redis unreachable, process paused): from then on `current()` is undefined, so every state write, every
 * hand-over to delivery and every write to an output is refused, and `lost` resolves.
 */
export class LeaderElection {
  readonly lease: RedisLease;
  private roleNow: Role = 'standby';
  private renewTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private onLost: ((error: PersistenceError) => void) | undefined;
  /** Resolves once with the reason when a held lease is lost (never on a graceful release). */
  readonly lost: Promise<PersistenceError>;

  constructor(
    private readonly store: RedisStateStore,
    private readonly config: HighAvailabilityConfig,
    private readonly log: Logger,
  ) {
    this.lease = new RedisLease(() => store.connection(), store.prefix, `${hostname()}:${process.pid}`, config.lease_seconds);
    this.lost = new Promise((resolve) => (this.onLost = resolve));
    store.fenceWith(() => this.lease.current());
  }

  get role(): Role {
    return this.roleNow;
  }

  /** True while this replica may pull, write state and send. */
  leading(): boolean {
    return this.roleNow === 'leader' && this.lease.current() !== undefined;
  }

  /** `collector_ha_role{role}`: 1 for the role this replica has now. */
  registerMetrics(registry: Registry): void {
    const election = this;
    new Gauge({
      name: 'collector_ha_role',
      help: 'High availability: 1 for this replica\'s role (leader pulls and sends; standby waits for the lease; lost gave it up)',
      labelNames: ['role'],
      registers: [registry],
      collect() {
        for (const role of ['leader', 'standby', 'lost'] as const) this.set({ role }, election.roleNow === role ? 1 : 0);
      },
    });
  }

  /** Who holds the lease now (any replica), for the log lines. */
  async holder(): Promise<LeaseHolder | undefined> {
    return readLeaseHolder(await this.store.connection(), this.store.prefix);
  }

  /** Polls until this replica holds the lease (true) or `signal` aborts (false). */
  async waitForLeadership(signal: AbortSignal): Promise<boolean> {
    const pollMs = Math.min(1_000, Math.max(200, this.lease.ttlMs / 10));
    let said = false;
    let unreachable = false; // one warning per outage, not one per poll
    while (!signal.aborted) {
      try {
        if (await this.tryLead()) return true;
        unreachable = false;
        if (!said) {
          said = true;
          const holder = await this.holder().catch(() => undefined);
          this.log.info(`Standby: the high-availability lease is held by ${holder ? `${holder.holder} (token ${holder.token})` : 'another replica'}; taking over when it lapses`);
        }
      } catch (error) {
        if (!unreachable) this.log.warning(`Standby: cannot reach the lease in Redis: ${describeError(error)}; retrying every ${pollMs} ms`);
        unreachable = true;
      }
      await sleep(pollMs, signal);
    }
    return false;
  }

  /** One attempt to take the lease (`--once`, and each poll of a standby). */
  async tryLead(): Promise<boolean> {
    if (!(await this.lease.tryAcquire())) return false;
    this.roleNow = 'leader';
    const term = this.lease.current();
    this.log.info(`Leader: acquired the high-availability lease (token ${term?.token}, ${this.config.lease_seconds} s term)`);
    this.scheduleRenewal(this.lease.ttlMs / 3);
    return true;
  }

  private scheduleRenewal(inMs: number): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => void this.renew(), inMs);
    this.renewTimer.unref();
    // Lapse at the end of the local term even if the renewal hangs (Redis unreachable).
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => this.checkExpiry(), this.lease.remainingMs() + 1);
    this.expiryTimer.unref();
  }

  private checkExpiry(): void {
    if (this.roleNow === 'leader' && !this.lease.current()) {
      this.lose(`the lease term ran out without a successful renewal (${this.config.lease_seconds} s)`);
    }
  }

  private async renew(): Promise<void> {
    if (this.roleNow !== 'leader') return;
    if (!this.lease.current()) return this.checkExpiry();
    try {
      // A renewal stuck on a dead connection must not use up the term: give up on it and try again.
      const attemptMs = Math.max(100, this.lease.ttlMs / 6);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer from Redis within ${attemptMs} ms`)), attemptMs)));
      const renewed = await Promise.race([this.lease.renew(), timedOut]).finally(() => clearTimeout(timer));
      if (!renewed) return this.lose('Redis holds the lease for another replica now');
      if (!this.lease.current()) return this.checkExpiry();
      this.scheduleRenewal(this.lease.ttlMs / 3);
    } catch (error) {
      // Retry soon while the term lasts; the expiry timer ends it otherwise.
      this.log.warning(`Cannot renew the high-availability lease: ${describeError(error)}; ${Math.round(this.lease.remainingMs())} ms of the term left`);
      this.scheduleRenewal(Math.min(1_000, this.lease.ttlMs / 10));
    }
  }

  private lose(why: string): void {
    if (this.roleNow !== 'leader') return;
    // Stops every send and write at once (the term is dropped synchronously), then deletes the lease in Redis
    // if it still holds our term (we ran out locally first): a standby need not wait for it to lapse there.
    this.lease.release().catch(() => undefined);
    this.roleNow = 'lost';
    clearTimeout(this.renewTimer);
    clearTimeout(this.expiryTimer);
    this.onLost?.(
      new PersistenceError(LEASE_LOST_ERROR, `Lost the high-availability lease: ${why}. Nothing more is sent or saved by this replica; it stops so that it can restart as a standby`),
    );
  }

  /** Graceful stop: gives the lease up so a standby takes over at once. */
  async release(): Promise<void> {
    clearTimeout(this.renewTimer);
    clearTimeout(this.expiryTimer);
    if (this.roleNow !== 'leader') return; // a lost lease stays lost: it is no longer ours to release
    this.roleNow = 'standby';
    await this.lease.release().then(
      () => this.log.info('Released the high-availability lease'),
      (error: unknown) => this.log.warning(`Cannot release the high-availability lease (it lapses by itself): ${describeError(error)}`),
    );
  }

  private refusal(what: string): PersistenceError {
    return new PersistenceError(LEASE_LOST_ERROR, `Not sent: this replica does not hold the high-availability lease (${what})`);
  }

  /** Pullers' view of delivery: a batch is handed over only while the lease is held (checked synchronously). */
  fenceDelivery(delivery: Delivery): Delivery {
    const submit: Delivery['submit'] = (records, service) =>
      this.leading() ? delivery.submit(records, service) : Promise.reject(this.refusal(`${eventCount(records)} record(s)`));
    return withMethod(delivery, 'submit', submit);
  }

  /**
   * The output as the delivery pipeline sees it: writes of events and lookups happen only while the lease is
   * held, so a batch queued before a pause is not sent after it. The collector's own log lines still go.
   */
  fenceOutput(output: Output): Output {
    const write: Output['write'] = (records, service, flushed) =>
      service === 'internal' || this.leading() ? output.write(records, service, flushed) : Promise.reject(this.refusal(`${records.length} record(s) to ${output.name}`));
    const fenced = withMethod(output, 'write', write);
    if (!output.writeBatches) return fenced;
    const writeBatches: NonNullable<Output['writeBatches']> = (batches, service, flushed) =>
      service === 'internal' || this.leading() ? output.writeBatches!(batches, service, flushed) : Promise.reject(this.refusal(`${batches.length} batch(es) to ${output.name}`));
    return withMethod(fenced, 'writeBatches', writeBatches);
  }
}

/** `target` with one method replaced; everything else (getters, methods added later) passes through. */
function withMethod<T extends object, K extends keyof T>(target: T, name: K, replacement: T[K]): T {
  return new Proxy(target, {
    get: (object, property) => {
      if (property === name) return replacement;
      const value: unknown = Reflect.get(object, property, object);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}

/** `--show-state`: the lease of a Redis store, read without taking part. */
export async function leaseStatus(store: RedisStateStore): Promise<Record<string, unknown>> {
  const holder = await readLeaseHolder(await store.connection(), store.prefix);
  const writers = await store.writers();
  return {
    lease: holder ? { holder: holder.holder, token: holder.token, expires_in_ms: holder.expires_in_ms } : 'free (no replica leads)',
    ...(Object.keys(writers).length ? { last_writer_token: writers } : {}),
  };
}

export type { LeaseHolder };
