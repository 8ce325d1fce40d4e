import { freemem, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Logger } from '../telemetry/logger.js';
import type { Output, SenderService } from './types.js';

/** What the monitor reads of one output's lane (the pipeline's Lane), so it need not import the pipeline. */
export interface MonitoredLane {
  readonly output: Output;
  accepts(service: SenderService): boolean;
  queued(service: SenderService): number;
  readonly sent: Readonly<Record<SenderService, number>>;
  readonly busyMs: Readonly<Record<SenderService, number>>;
}

const SERVICE_LABEL: Record<SenderService, string> = { standard: 'Standard', internal: 'Internal', lookup: 'Lookup' };

/** `2022-06-28 10:39:22.516313+00:00`, Python's str(datetime) in UTC as the manuals show it. */
function pythonUtc(date: Date): string {
  return `${date.toISOString().slice(0, 23).replace('T', ' ')}000+00:00`;
}

function mib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)}GiB` : `${(bytes / 1024 ** 2).toFixed(2)}MiB`;
}

/** Virtual memory size of this process (Linux /proc), 0 elsewhere. */
function vmsBytes(): number {
  try {
    const match = /VmSize:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

interface MemorySample {
  globalPct: number;
  rss: number;
  vms: number;
}

function sampleMemory(): MemorySample {
  return { globalPct: (1 - freemem() / totalmem()) * 100, rss: process.memoryUsage.rss(), vms: vmsBytes() };
}

/** The manuals' `[GC] global: a% -> b%, process: RSS(x -> y), VMS(x -> y)` line: memory before and after a GC. */
export function gcLine(): string {
  const before = sampleMemory();
  // A collection happens only when node runs with --expose-gc; otherwise both samples are the same moment.
  (globalThis as { gc?: () => void }).gc?.();
  const after = sampleMemory();
  return `[GC] global: ${before.globalPct.toFixed(1)}% -> ${after.globalPct.toFixed(1)}%, process: RSS(${mib(before.rss)} -> ${mib(after.rss)}), VMS(${mib(before.vms)} -> ${mib(after.vms)})`;
}

function managerKind(type: string): string {
  if (type === 'console' || type === 'stdout') return 'Console';
  if (type === 'devo_platform' || type === 'relay') return 'Devo';
  if (type === 'syslog' || type === 'in_house_relay' || type === 'sidecar') return 'Syslog';
  return 'Custom';
}

/**
 * Every `sender_stats_period_in_sec`, per output and sender service, the DCSDK's monitor lines:
 * `Number of available senders: N, sender manager internal queue size: N` and
 * `Standard - Total number of messages sent: T, messages sent since "<last report>": D (elapsed S seconds)`,
 * plus the `[GC]` memory line.
 */
export class SenderMonitor {
  private readonly timer: NodeJS.Timeout;
  private since = new Date();
  private readonly lastSent = new Map<string, number>();
  private readonly lastBusy = new Map<string, number>();

  constructor(
    private readonly pipeline: { readonly lanes: readonly MonitoredLane[] },
    periodMs: number,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => this.report(), periodMs);
    this.timer.unref();
  }

  report(): void {
    const now = new Date();
    for (const lane of this.pipeline.lanes) this.reportLane(lane);
    this.log.child({ module: 'MainThread' }).info(gcLine());
    this.since = now;
  }

  private reportLane(lane: MonitoredLane): void {
    const output = lane.output as { name: string; type: string; openConnections?: number; ready(): boolean };
    for (const service of ['standard', 'internal', 'lookup'] as const) {
      if (!lane.accepts(service)) continue;
      const log = this.log.child({ module: `${managerKind(output.type)}SenderManagerMonitor(${service}_senders,${output.name})` });
      const senders = output.openConnections ?? (output.ready() ? 1 : 0);
      log.info(`Number of available senders: ${senders}, sender manager internal queue size: ${lane.queued(service)}`);
      const key = `${output.name}/${service}`;
      const total = lane.sent[service];
      const delta = total - (this.lastSent.get(key) ?? 0);
      const busy = lane.busyMs[service] - (this.lastBusy.get(key) ?? 0);
      this.lastSent.set(key, total);
      this.lastBusy.set(key, lane.busyMs[service]);
      log.info(`${SERVICE_LABEL[service]} - Total number of messages sent: ${total}, messages sent since "${pythonUtc(this.since)}": ${delta} (elapsed ${(busy / 1000).toFixed(3)} seconds)`);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
