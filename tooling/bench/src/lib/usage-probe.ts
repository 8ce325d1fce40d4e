// Preloaded into a measured collector process (`node --import <this> ...`): at exit it reports the process's
// own CPU time and peak RSS on stderr, so the harness measures the collector, not itself.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const usage = process.resourceUsage();
  const line = JSON.stringify({ userMs: usage.userCPUTime / 1000, systemMs: usage.systemCPUTime / 1000, maxRssKb: usage.maxRSS });
  try {
    writeSync(2, `\nBENCH_USAGE ${line}\n`);
  } catch {
    // stderr closed: nothing to report to
  }
});
