/**
 * One fault API for every simulator: `sim.faults.inject({ kind: 'throttle', times: 2, after: 3 })`. A fault
 * replaces the answer to `times` requests of one endpoint (`on`), starting after `after` more requests to
 * it (0 = the very next one). Each simulator answers with its vendor's real error bodies; the kinds a
 * simulator knows are in its own union (`LarkFault`, `DarktraceFault`, ...) and `supports(kind)`.
 */

/** The vendor's error answer for this HTTP status (e.g. 500 with the body the vendor sends on 500). */
export interface StatusFault {
  kind: 'status';
  status: number;
}

/** The vendor's rate-limit answer (HTTP 429 and its headers; Proofpoint's carries no Retry-After). */
export interface ThrottleFault {
  kind: 'throttle';
  /** Seconds the answer tells the client to wait, where the vendor says so. Default 1. */
  retryAfter?: number;
}

/** HTTP 200 with a body that is not (complete) JSON: a proxy's HTML page or a truncated answer. */
export interface GarbageFault {
  kind: 'garbage';
}

/** No answer: the connection hangs for `afterMs` (default 200) and is then dropped. */
export interface DropFault {
  kind: 'drop';
  afterMs?: number;
}

/** The normal answer, but only after `delayMs` (default 200): a busy server, for client timeouts. */
export interface SlowFault {
  kind: 'slow';
  delayMs?: number;
}

/** Every token issued so far stops working when the request arrives (it is answered as an expired token). */
export interface ExpireTokensFault {
  kind: 'expire-tokens';
}

/** Exactly this answer (a vendor error the simulator has no kind for, e.g. a missing permission). */
export interface AnswerFault {
  kind: 'answer';
  status: number;
  body: string | Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Darktrace's own failure answers (see `DarktraceFault`). */
export interface DarktraceAnswerFault {
  kind: 'signature' | 'date' | 'redirect-login' | 'redirect-403' | 'login-page';
}

/** Every kind some simulator knows: each simulator's own union is a part of it, so harnesses hold any `sim.faults`. */
export type SimulatorFault = StatusFault | ThrottleFault | GarbageFault | DropFault | SlowFault | ExpireTokensFault | AnswerFault | DarktraceAnswerFault;

/** Which requests a fault hits. */
export interface FaultTiming<T extends string> {
  /** How many requests get the fault. Default 1 (`expire-tokens` happens once). */
  times?: number;
  /** Requests to the endpoint answered normally first. Default 0. */
  after?: number;
  /** The endpoint; each simulator documents its names and its default. */
  on?: T;
}

/** `sim.faults` of every simulator. */
export interface SimulatorFaults<F extends { kind: string }, T extends string> {
  inject(fault: F & FaultTiming<T>): void;
  /** Whether this simulator has the kind (harnesses skip the others). */
  supports(kind: string): boolean;
  /** Forgets every fault not yet served. */
  clear(): void;
}

interface Pending<F> {
  fault: F;
  on: string | undefined;
  /** Matching requests still to pass before the fault hits. */
  skip: number;
  times: number;
}

/**
 * The schedule behind `sim.faults`: a simulator calls `take(endpoint)` once for every request to an endpoint
 * that can fail, as it arrives, and answers with the fault it gets back (at the point of its pipeline where
 * the vendor would). Faults injected for the same request queue up behind each other.
 */
export class FaultSchedule<F extends { kind: string }, T extends string> implements SimulatorFaults<F, T> {
  private readonly pending: Pending<F>[] = [];

  constructor(
    private readonly options: {
      kinds: readonly F['kind'][];
      /** The endpoint of a fault injected without `on`; none: every endpoint. */
      endpoint?: T;
      /** Whether a request to `endpoint` is one `on` names. Default: the same name. */
      matches?: (on: string, endpoint: string) => boolean;
    },
  ) {}

  inject(fault: F & FaultTiming<T>): void {
    if (!this.supports(fault.kind)) throw new Error(`This simulator has no fault of kind ${fault.kind}; it has ${this.options.kinds.join(', ')}`);
    const { times, after, on, ...rest } = fault;
    this.pending.push({ fault: rest as unknown as F, on: on ?? this.options.endpoint, skip: after ?? 0, times: fault.kind === 'expire-tokens' ? 1 : (times ?? 1) });
  }

  supports(kind: string): boolean {
    return (this.options.kinds as readonly string[]).includes(kind);
  }

  clear(): void {
    this.pending.length = 0;
  }

  /** Counts one request to `endpoint` and returns the fault it gets, if any. */
  take(endpoint: string): F | undefined {
    const matches = this.options.matches ?? ((on, requested) => on === requested);
    const hit = this.pending.filter((p) => p.on === undefined || matches(p.on, endpoint));
    const due = hit.find((p) => p.skip === 0);
    for (const p of hit) if (p !== due && p.skip > 0) p.skip--;
    if (!due) return undefined;
    if (--due.times <= 0) this.pending.splice(this.pending.indexOf(due), 1);
    return due.fault;
  }
}
