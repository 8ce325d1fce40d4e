// What a demo run found, shared by the run (run-demo.ts) and its rendering (render.ts).
import type { SyslogReceiver } from '@collector/testkit';

export interface TagResult {
  tag: string;
  collector: string;
  expected: number | undefined;
  arrived: number;
}

export interface CollectorResult {
  vendor: string;
  title: string;
  status: 'ok' | 'failed' | 'skipped' | 'timed out';
  note?: string;
  pulled: number;
  delivered: number;
  errors: string[];
  seconds: number;
}

export interface DemoResult {
  ok: boolean;
  receiver: SyslogReceiver['kind'];
  collectors: CollectorResult[];
  tags: TagResult[];
  /** The collectors' own log lines that reached the receiver (devo.collectors.out.local.*), by tag. */
  internalTags: Map<string, number>;
  dir: string;
}
