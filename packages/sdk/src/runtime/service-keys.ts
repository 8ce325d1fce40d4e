import { describeError } from '../errors/collector-error.js';
import { noJournal, type AckJournal } from '../persistence/ack-journal.js';
import type { StateStore } from '../persistence/state-store.js';
import type { PlainJsonString } from '../persistence/state-text.js';
import type { Logger } from '../telemetry/logger.js';
import { DedupWindow, KeysInFlight, savedDedupKeys, type SavedDedupKeys } from './dedup-window.js';
import type { ServiceDefinition } from './definitions.js';

const DEFAULT_DEDUP_WINDOW = 20_000;
/**
 * A state save writes the acknowledged window again once the journal holds this share of it in new keys
 * (12,500 of a 50,000-key window): a restart then reads at most that many keys from the journal.
 */
const DEDUP_SAVE_FRACTION = 0.25;

/** What a service's dedup keys need from their runner. */
export interface ServiceKeysDeps {
  /** The service's key in the state store and the journal. */
  key: string;
  definition: Pick<ServiceDefinition, 'dedupWindow' | 'previousDedupKey'>;
  journal: AckJournal;
  store: StateStore;
  log: Logger;
}

/** The dedup keys one state save writes, and what the save's outcome does to the bookkeeping (see beginSave). */
export interface KeysSave {
  dedup: SavedDedupKeys | PlainJsonString;
  /** The state write failed: the keys count as unsaved again. */
  failed(): void;
  /** The state write is durable: the journal's sealed segment is folded when this save wrote the window. */
  saved(): Promise<void>;
}

/**
 * The dedup keys of one service that keeps state, and their way to disk. An event counts as seen while its key
 * is in the acknowledged window (acknowledged, or loaded at start) or among the keys in flight (queued or
 * submitted, not acknowledged yet). Only acknowledged keys are ever persisted: each acknowledged batch is
 * appended to the journal at once, and the window is written with the state when the journal holds many keys
 * since it last was, or at the end of a pull. An idle service may leave its window to the saved state and
 * load it again at its next pull.
 */
export class ServiceKeys {
  /**
   * Keys of acknowledged events (and those loaded at start): what is persisted (a key of an undelivered
   * event must never be).
   */
  private acked: DedupWindow;
  /**
   * Keys of events queued or submitted and not yet acknowledged: bounded by the queue and the batches in
   * flight, empty at idle. Each leaves at its batch's acknowledgement (into `acked`), or when its batch
   * fails (rejected, or its submission threw: never delivered, so not a duplicate if pulled again). Until
   * 2026-12 a second 50,000-key window of every submitted key did this, with mostly the keys of `acked`
   * (1.1–2.4 MiB a service at idle); the strings here are the queued batches' own keys.
   */
  private readonly pending = new KeysInFlight();
  /** How many acknowledged keys the idle service left to its saved state (see release()); undefined while held. */
  private released: number | undefined;
  /** The current (or last) pull loaded the released keys again (see idle()). */
  private reloaded = false;
  /** The service's earlier key, while the loaded window holds keys of that format (see `previousDedupKey`). */
  private previous: ServiceDefinition['previousDedupKey'];
  /** Keys were acknowledged (or added) since the last state save. */
  private changed = false;
  private journalFailed = false;
  /**
   * The dedup keys of the last state write that saved them (see beginSave()), and how many keys were
   * acknowledged since: the journal holds those, so a save writes the same keys again until they are many.
   */
  private savedDedup: SavedDedupKeys | PlainJsonString | undefined;
  private sinceSave = 0;
  /** `savedDedup` is what the acknowledged window held when saved (not a loaded state's keys). */
  private savedIsWindow = false;
  /** Keys reached the acknowledged window without being journaled (a failed append, `previousDedupKey`). */
  private unjournaled = false;

  /**
   * `saved`: the keys of the loaded state; `journaled`: the journal's, acknowledged after that state was
   * saved (a crash came before the next save).
   */
  constructor(
    private readonly deps: ServiceKeysDeps,
    saved: SavedDedupKeys,
    journaled: readonly string[],
  ) {
    const known = [...savedDedupKeys(saved), ...journaled];
    this.acked = this.window(known);
    // The loaded keys are written again as they are until the journal holds many more (see beginSave()).
    this.savedDedup = saved;
    this.sinceSave = journaled.length;
    const previous = deps.definition.previousDedupKey;
    this.previous = previous && known.some((key) => previous.recognises(key)) ? previous : undefined;
    if (this.previous) deps.log.info('The saved dedup keys were made by an earlier version: events are also checked against them until a pull completes');
  }

  /**
   * Whether the event was seen: its key is acknowledged, queued or in flight, or (while an earlier version's
   * keys are loaded) its earlier key was acknowledged, in which case its new key joins the acknowledged ones.
   */
  duplicate(event: unknown, key: string): boolean {
    return this.seen(key) || (this.previous !== undefined && this.deliveredUnderPreviousKey(event, key));
  }

  /** The event with this key was queued: seen until its batch is acknowledged or fails. */
  queued(key: string): void {
    this.pending.add(key);
  }

  /**
   * A batch failed (its acknowledgement rejected, or its submission threw): none of its events count as
   * delivered, so their keys are no longer seen and a pull that reads them again sends them.
   */
  forget(keys: readonly string[]): void {
    for (const key of keys) this.pending.delete(key);
  }

  /**
   * Every output acknowledged the batch with these keys: they are journaled at once (one durable append per
   * acknowledged batch), so that a crash before the next checkpoint re-sends only batches in flight. Resolves
   * once the append is durable (never rejects: a failed append is said once and the next save writes the keys).
   */
  acknowledged(keys: readonly string[]): Promise<void> | undefined {
    if (keys.length === 0) return undefined;
    // The append first: its write and fsync run while the rest is counted (the next batch waits for them).
    const journaled = this.deps.journal.append(this.deps.key, keys);
    // In the same turn as the append is issued: a snapshot taken after it holds these keys (see beginSave()).
    // Each moves from the pending keys in the same step: never unseen in between.
    for (const key of keys) {
      this.acked.add(key);
      this.pending.delete(key);
    }
    this.changed = true;
    this.sinceSave += keys.length;
    return journaled.then(
      () => void (this.journalFailed = false),
      (error: unknown) => {
        // The next save writes the whole window, with these keys (the journal lacks them).
        this.unjournaled = true;
        // Only duplicates after a crash are at stake (the checkpoint is unaffected): say so once per streak.
        if (!this.journalFailed) this.deps.log.warning(`${describeError(error)}; a crash before the next checkpoint would re-send the events acknowledged since`);
        this.journalFailed = true;
      },
    );
  }

  /** Keys were acknowledged or added since the last state save. */
  get unsaved(): boolean {
    return this.changed;
  }

  /**
   * What a state save taken now writes of the keys, in the same turn as its snapshot (see ServiceRunner.persist).
   *
   * The window is written (and the journal folded) at the end of a pull (`withKeys`), or once the journal
   * holds many keys since it last was (`DEDUP_SAVE_FRACTION` of the window), or keys it lacks: in between
   * (the checkpoints of a catch-up's windows), a save writes the keys of the last one again as they are, and
   * the journal keeps every key acknowledged since. Serialising a 50,000-key window at every checkpoint cost
   * Darktrace and Proofpoint 4–8 % of their CPU. After a crash the state's keys plus the journal hold every
   * acknowledged key either way.
   */
  beginSave(withKeys: boolean): KeysSave {
    withKeys ||= this.saveDue();
    this.changed = false;
    // The window's text is made again only when it changed since it was last saved: at the end of a pull the
    // last checkpoint's save has often written it already (a few MB of text less at the peak).
    const unchanged = this.savedIsWindow && this.sinceSave === 0 && !this.unjournaled;
    const dedup = (withKeys && !unchanged) || this.savedDedup === undefined ? this.acked.toSavedState() : this.savedDedup;
    if (!withKeys) {
      return { dedup, failed: () => void (this.changed = true), saved: () => Promise.resolve() };
    }
    // Same turn as the snapshot: it holds every key appended so far, and later appends go to a segment
    // this save does not fold.
    const fold = this.deps.journal.seal(this.deps.key);
    const counted = this.sinceSave;
    const unjournaled = this.unjournaled;
    this.sinceSave = 0;
    this.unjournaled = false;
    return {
      dedup,
      failed: () => {
        this.changed = true;
        this.sinceSave += counted;
        this.unjournaled ||= unjournaled;
      },
      saved: async () => {
        this.savedDedup = dedup;
        this.savedIsWindow = true;
        await fold().catch(() => undefined);
      },
    };
  }

  /**
   * A pull ended. The last save's text is not kept between pulls (up to ~1 MiB): the next pull's first save
   * writes the keys again. After a pull that completed, everything a later look-back re-reads was read, and
   * so has its new key in the window: the earlier version's keys are no longer consulted.
   */
  pullEnded(succeeded: boolean): void {
    this.savedDedup = undefined;
    this.savedIsWindow = false;
    if (succeeded) this.previous = undefined;
  }

  /**
   * Before a daemon waits for its next pull, after a pull that received events (`received`) or one that loaded
   * its keys again (an idle service's pulls that find nothing would otherwise keep the reloaded window until
   * events come): the window's storage is given back (1.1–2.4 MiB of a 50,000-key window) when the saved
   * state holds exactly its keys, and the next pull loads them again from there (see reload()), as a restart
   * would. Only when nothing can be missing from the state: its last save wrote the keys and succeeded, no key
   * was acknowledged or added since, none is in flight, and no earlier version's keys are still in use.
   * `drained`: nothing is queued either. Returns whether the idle collection is worth running.
   */
  idle(received: boolean, drained: boolean): boolean {
    const reloaded = this.reloaded;
    this.reloaded = false;
    if (!received && !reloaded) return false;
    const acked = this.acked;
    if (acked.size === 0 || this.released !== undefined || !drained || this.pending.size > 0 || this.previous !== undefined) return true;
    if (this.changed || this.sinceSave > 0 || this.unjournaled || this.journalFailed) return true;
    this.released = acked.size;
    acked.release();
    return true;
  }

  /**
   * Before a pull: the keys an idle service left to its state (see idle()), with any the journal holds, loaded
   * into a new window; a failed read fails the pull (retried next period) with nothing pulled.
   */
  async reload(): Promise<void> {
    if (this.released === undefined) return;
    const { key, store, journal, log } = this.deps;
    const loaded = await store.load(key);
    const journaled = await journal.read(key);
    this.acked = this.window([...savedDedupKeys(loaded?.['dedup']), ...journaled]);
    if (this.acked.size !== this.released) {
      log.warning(`The saved state held ${this.acked.size} dedup key(s) where this service left ${this.released} at its last pull: events of the look-back may be sent again`);
    }
    this.released = undefined;
    this.reloaded = true;
  }

  private seen(key: string): boolean {
    return this.pending.has(key) || this.acked.has(key);
  }

  /**
   * The event's earlier key is in the window: it was acknowledged under that key, so its new key joins the
   * acknowledged keys (saved with the next state write) and it is not sent again.
   */
  private deliveredUnderPreviousKey(event: unknown, key: string): boolean {
    const previous = this.previous!.compute(event);
    if (previous === undefined || !this.seen(previous)) return false;
    this.acked.add(key);
    this.changed = true;
    this.unjournaled = true;
    return true;
  }

  /** Whether the next save writes the acknowledged window (see beginSave()). */
  private saveDue(): boolean {
    if (this.deps.journal === noJournal || this.unjournaled || this.savedDedup === undefined) return true;
    return this.sinceSave >= Math.max(1, Math.floor(this.acked.capacity * DEDUP_SAVE_FRACTION));
  }

  /** The acknowledged window, holding `known` (the saved keys, then the journal's): at start and after an idle release. */
  private window(known: readonly string[]): DedupWindow {
    return new DedupWindow(this.deps.definition.dedupWindow ?? DEFAULT_DEDUP_WINDOW, known);
  }
}
