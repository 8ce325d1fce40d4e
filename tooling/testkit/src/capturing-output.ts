import { isCollectorLogTag } from './received-line.js';

// The shapes of `DeliveryRecord`, `SenderService` and `Output` from @collector/sdk, written out here because
// the SDK's own tests use this kit: a dependency back on the SDK would make the workspace graph cyclic.
// CapturingOutput is assignable to `Output` structurally (SDK test files declare it as `Output` where they need it).

/** One line handed to an output (`DeliveryRecord` in @collector/sdk). */
export interface CapturedRecord {
  tag: string;
  message: string;
  time?: Date;
}

/** The SDK's sender services: pulled events, the collector's own logs and metrics, lookups. */
export type CapturedService = 'standard' | 'internal' | 'lookup';

export interface CapturingOutputOptions {
  /**
   * The sender services to take. Left out, the SDK gives a custom output `standard` and `lookup` only, so
   * `records` holds no `devo.collectors.*` log lines; add `internal` to capture those too.
   */
  services?: readonly CapturedService[];
}

/**
 * A custom `Output` for tests, as a library user would write one: it records every line the SDK asks it to
 * write and acknowledges at once. What it holds is what the SDK counts as delivered, so tests assert
 * exactly-once and checkpoint behaviour on it without a network receiver.
 */
export class CapturingOutput {
  readonly type = 'capture';
  readonly services?: readonly CapturedService[];
  /** Every acknowledged line, in write order. */
  readonly records: CapturedRecord[] = [];
  /** The next `failNext` writes reject (a lost connection): nothing of them counts as delivered. */
  failNext = 0;

  constructor(
    readonly name = 'capture',
    options: CapturingOutputOptions = {},
  ) {
    if (options.services) this.services = options.services;
  }

  async start(): Promise<void> {}

  async write(records: readonly CapturedRecord[], _service?: CapturedService): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('simulated connection loss');
    }
    this.records.push(...records);
  }

  ready(): boolean {
    return true;
  }

  async stop(): Promise<void> {}

  /** The vendor events (the collector's own `devo.collectors.*` log lines left out), optionally of one tag, parsed. */
  events(tag?: string): Record<string, unknown>[] {
    return this.records
      .filter((r) => !isCollectorLogTag(r.tag) && (tag === undefined || r.tag === tag))
      .map((r) => JSON.parse(r.message) as Record<string, unknown>);
  }

  /** One field of each vendor event as a string (`id` by default), e.g. to check exactly-once delivery. */
  ids(field = 'id', tag?: string): string[] {
    return this.events(tag).map((e) => String(e[field]));
  }

  /** The collector's own log lines (captured only with `services` including `internal`). */
  collectorLogs(): CapturedRecord[] {
    return this.records.filter((r) => isCollectorLogTag(r.tag));
  }
}
