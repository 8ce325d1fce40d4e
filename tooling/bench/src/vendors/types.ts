import type { SimulatorFault, SimulatorFaults } from '@collector/simulators';
import type { VendorName } from '@collector/testkit';

/**
 * What the benchmark and fault-injection harness needs from each collector: start its simulator with N events
 * of known identity, write the app's config, and read the dedup identity back out of a received line.
 */

export interface ScenarioOptions {
  /** Ground-truth events the simulator serves (approximately, for vendors that fan out). */
  events: number;
  seed?: number;
}

export interface ConfigOptions {
  /** The `outputs:` block (devo_platform pointing at the test rsyslog). */
  outputs: Record<string, unknown>;
  /** Override the endpoint (security checks: a plain-HTTP non-loopback URL). */
  baseUrl?: string;
  /** Input-level extras (e.g. `allow_insecure_http`). */
  input?: Record<string, unknown>;
  /** Seconds between pulls in daemon mode. */
  periodSeconds?: number;
  /** Smaller pages where the vendor pages (fault injection "mid-paging"); the vendor's default otherwise. */
  pageSize?: number;
}

export interface VendorScenario {
  /** Dedup identities of every event the simulator holds: what must arrive exactly once. */
  truth(): Set<string>;
  /** The whole config.yaml as an object. */
  config(options: ConfigOptions): Record<string, unknown>;
  /** Dedup identity of one received vendor event (the JSON message of a syslog line). */
  identity(event: Record<string, unknown>): string | undefined;
  /** Every secret the collector was given or obtained (credentials, tokens): must never leave the process. */
  secrets(): string[];
  /** The simulator's faults (the one fault API of `@collector/simulators`); absent where there are none (moto). */
  faults?: SimulatorFaults<SimulatorFault, string>;
  /** The endpoint of the data requests the faults hit, where it is not the simulator's default. */
  faultEndpoint?: string;
  /**
   * Whether the source still holds undelivered work a rerun will collect (an SQS queue with messages that
   * are invisible for a while after a crash). Pull vendors leave it out: their state says where to resume.
   */
  pending?(): Promise<boolean>;
  /**
   * After a collector run: the data requests it made (URLs and authentication), for the bare fetch-and-send
   * loop it is compared with (`src/lib/bare-loop.ts`).
   */
  barePlan?(): Promise<BarePlan>;
  close(): Promise<void>;
}

/** What the bare loop fetches and where the events are in each page. */
export interface BarePlan {
  /** The data requests the collector made that returned events' pages, in order. */
  requests: { url: string; headers?: Record<string, string> }[];
  /** Where the events are in a page: dotted paths to arrays ('' = the body is the array). */
  eventPaths: string[];
  /** Darktrace signs each request with the current time: the loop signs as it goes. */
  darktrace?: { publicToken: string; privateToken: string };
}

export interface VendorAdapter {
  /** The folder name under apps/ and packages/ (the registry's name). */
  name: VendorName;
  /**
   * The most events between two checkpoints for a scenario of `events` events: what a crash may send again
   * (the SDK commits a checkpoint, and the dedup keys with it, only at the points the collector yields one).
   */
  checkpointBatch(events: number): { events: number; unit: string };
  /** At most this many repeats of a kill -9 mode (each AWS crash waits out the 120 s visibility timeout). */
  maxRepeat?: number;
  /** The collector keeps no state of its own (the SQS queue is its state): no disk-full / corrupt-state runs. */
  stateless?: boolean;
  /** Set when another benchmark measures this collector's throughput (pnpm bench then only links it). */
  benchedElsewhere?: string;
  start(options: ScenarioOptions): Promise<VendorScenario>;
  /** Stops what the adapter shares between scenarios (a moto server): call once at the end. */
  shutdown?(): Promise<void>;
}

/** What an adapter file declares: everything but the name, which comes from the registry. */
export type VendorSpecifics = Omit<VendorAdapter, 'name'>;
