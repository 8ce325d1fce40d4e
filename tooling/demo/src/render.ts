import type { DemoResult } from './demo-result.js';

/** One row of the live progress table. */
export interface CollectorProgress {
  name: string;
  state: 'starting' | 'running' | 'done' | 'failed' | 'skipped' | 'timed out';
  pulled: number;
  delivered: number;
  expected: number;
  lagMs: number | undefined;
  note?: string;
}

function table(header: string[], rows: string[][], rightAligned: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

/** "3m 05s", "42s", "1h 02m": how far behind now a collector's checkpoint is. */
export function formatLag(ms: number | undefined): string {
  if (ms === undefined) return '-';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function bar(done: number, total: number, width = 20): string {
  if (total <= 0) return ' '.repeat(width);
  const filled = Math.min(width, Math.round((done / total) * width));
  return '#'.repeat(filled) + '.'.repeat(width - filled);
}

export function renderProgress(rows: CollectorProgress[]): string {
  return table(
    ['collector', 'state', 'pulled', 'delivered', 'lag', 'progress'],
    rows.map((r) => [
      r.name,
      r.state,
      String(r.pulled),
      r.expected ? `${r.delivered}/${r.expected}` : String(r.delivered),
      formatLag(r.lagMs),
      r.state === 'skipped' ? (r.note ?? '') : bar(r.delivered, r.expected),
    ]),
    new Set([2, 3, 4]),
  );
}

export function renderSummary(result: DemoResult): string {
  const rows = result.tags.map((t) => [
    t.collector,
    t.tag,
    t.expected === undefined ? '-' : String(t.expected),
    String(t.arrived),
    t.expected === undefined || t.arrived === t.expected ? 'ok' : 'MISMATCH',
  ]);
  for (const [tag, count] of [...result.internalTags].sort()) rows.push(['(own logs)', tag, '-', String(count), 'ok']);
  let text = `What arrived at the receiver (${result.receiver}), tag by tag:\n\n`;
  text += table(['collector', 'tag', 'expected', 'arrived', ''], rows, new Set([2, 3]));
  const lines: string[] = [];
  for (const c of result.collectors) {
    if (c.status === 'skipped') lines.push(`- ${c.vendor}: skipped: ${c.note}`);
    else if (c.status !== 'ok') lines.push(`- ${c.vendor}: ${c.status}${c.errors.length ? `: ${c.errors.join('; ')}` : ''}`);
    else lines.push(`- ${c.vendor}: pulled ${c.pulled}, delivered ${c.delivered} in ${c.seconds.toFixed(1)} s${c.note ? ` (${c.note})` : ''}${c.errors.length ? ` (errors: ${c.errors.join('; ')})` : ''}`);
  }
  text += `\n${lines.join('\n')}\n\n${result.ok ? 'Demo OK: every expected event arrived once.' : 'Demo FAILED: see the rows above.'}\n`;
  return text;
}
