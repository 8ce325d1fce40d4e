// Preloaded into a measured collector process (`node --import <this> ...`): at exit it reports the process's
// own CPU time and peak RSS on stderr, so the harness measures the collector, not itself.
import { readFileSync, writeFileSync, writeSync } from 'node:fs';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

// SIGUSR2: where the resident memory is right now (the harness asks an idle daemon).
process.on('SIGUSR2', () => {
  const m = process.memoryUsage();
  const mib = (n: number) => Math.round((n / 1048576) * 10) / 10;
  try {
    writeSync(2, `\nBENCH_MEMORY ${JSON.stringify({ rss: mib(m.rss), heapTotal: mib(m.heapTotal), heapUsed: mib(m.heapUsed), external: mib(m.external), arrayBuffers: mib(m.arrayBuffers) })}\n`);
  } catch {
    // stderr closed
  }
  // `bench --idle-dump`: what the idle heap holds (after the figures above: the snapshot itself costs memory).
  const snapshot = process.env['BENCH_HEAP_SNAPSHOT'];
  if (!snapshot) return;
  // Which of Node's built-in modules the daemon loaded (their sources are pages of the `node` binary, their
  // compiled functions live in the heap) and V8's heap by space (code, old, young, large objects).
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { size: mib(s.space_size), used: mib(s.space_used_size) }]));
  const modules = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList ?? [];
  writeFileSync(snapshot.replace(/\.heapsnapshot$/, '') + '.modules.json', JSON.stringify({ spaces, modules }, null, 1));
  writeHeapSnapshot(snapshot);
});

/**
 * This process's own peak RSS, KiB: VmHWM, the high-water mark of its address space, which starts again at
 * exec. Not `resourceUsage().maxRSS`: Linux carries ru_maxrss over fork and exec, so a collector spawned by a
 * harness holding 800 MiB reported an 800 MiB peak it never had.
 */
function ownPeakRssKb(fallbackKb: number): number {
  try {
    const peak = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return peak ? Number(peak[1]) : fallbackKb;
  } catch {
    return fallbackKb;
  }
}

process.on('exit', () => {
  const usage = process.resourceUsage();
  const line = JSON.stringify({ userMs: usage.userCPUTime / 1000, systemMs: usage.systemCPUTime / 1000, maxRssKb: ownPeakRssKb(usage.maxRSS) });
  try {
    writeSync(2, `\nBENCH_USAGE ${line}\n`);
  } catch {
    // stderr closed: nothing to report to
  }
});
