/**
 * How far behind a service is: now minus the time its committed checkpoint stands for. Services either
 * describe their checkpoint with `checkpointTime` on the ServiceDefinition, or follow the convention
 * understood here (see `conventionalCheckpointTime`).
 */

/** Epoch values below this are seconds, above it milliseconds (1e11 s is the year 5138; 1e11 ms is 1973). */
const SECONDS_MS_BOUNDARY = 1e11;
/** Object fields read, in this order, when a checkpoint is an object. */
export const CHECKPOINT_TIME_FIELDS = ['time', 'timestamp', 'end', 'end_time', 'until', 'to', 'start_time', 'cursor'] as const;
/** Dates before this are not checkpoint times (a counter or an id that happens to be a number). */
const EARLIEST_PLAUSIBLE = Date.UTC(2000, 0, 1);

function fromScalar(value: unknown): Date | undefined {
  let ms: number | undefined;
  if (typeof value === 'number' && Number.isFinite(value)) ms = value < SECONDS_MS_BOUNDARY ? value * 1000 : value;
  else if (typeof value === 'string' && value.trim() !== '') {
    const numeric = Number(value);
    if (Number.isFinite(numeric)) return fromScalar(numeric);
    const parsed = Date.parse(/(?:Z|[+-]\d\d:?\d\d)$/i.test(value) ? value : `${value}Z`);
    ms = Number.isNaN(parsed) ? Date.parse(value) : parsed;
  } else if (value instanceof Date) ms = value.getTime();
  if (ms === undefined || Number.isNaN(ms) || ms < EARLIEST_PLAUSIBLE) return undefined;
  return new Date(ms);
}

/**
 * The convention for checkpoints without a `checkpointTime` hook: an ISO 8601 string (no zone = UTC), an
 * epoch number (ms, or s when below 1e11), or an object whose `time`, `timestamp`, `end`, `end_time`,
 * `until`, `to`, `start_time` (the next window's start) or `cursor` field is one of those. Anything else has no time (no lag is reported).
 */
export function conventionalCheckpointTime(checkpoint: unknown): Date | undefined {
  if (checkpoint === null || checkpoint === undefined) return undefined;
  if (typeof checkpoint === 'object' && !Array.isArray(checkpoint) && !(checkpoint instanceof Date)) {
    const record = checkpoint as Record<string, unknown>;
    for (const field of CHECKPOINT_TIME_FIELDS) {
      const time = fromScalar(record[field]);
      if (time) return time;
    }
    return undefined;
  }
  return fromScalar(checkpoint);
}

/** The service's own reading of its checkpoint when it has one, else the convention. Never throws. */
export function checkpointTimeOf(checkpoint: unknown, hook?: (checkpoint: any) => Date | undefined): Date | undefined {
  if (checkpoint === null || checkpoint === undefined) return undefined;
  try {
    const time = hook ? hook(checkpoint) : conventionalCheckpointTime(checkpoint);
    return time instanceof Date && !Number.isNaN(time.getTime()) ? time : undefined;
  } catch {
    return undefined;
  }
}

/** `2 h 13 min`, `45 s`, `3 d 4 h`: coarse on purpose, it is read by people. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

/** ` Lag: behind by 2 h 13 min (checkpoint 2024-06-24T06:00:00Z).` for the pull statistics line, or ''. */
export function lagSentence(checkpointTime: Date | undefined, now = Date.now()): string {
  if (!checkpointTime) return '';
  const iso = `${checkpointTime.toISOString().slice(0, 19)}Z`;
  return ` Lag: behind by ${formatDuration(now - checkpointTime.getTime())} (checkpoint ${iso}).`;
}
