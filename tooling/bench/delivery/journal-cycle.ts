// What the acknowledgement journal adds to the cycle of a service that keeps ONE unacknowledged batch at a time
// (a service with a dedup key): 2000-event batches of Microsoft 365's wire size (~415 B) submitted one after the
// other into rsyslog with the default 20 ms settle, each followed by the journal append of its 2000 keys (24
// characters, as Microsoft 365's), the next batch only once the append returned (the runner's rule). Two journals
// alternate within each round: this tree's FileAckJournal and the one of another tree (`--before DIR`, e.g. a copy
// of an earlier main), both on the same disk.
//
//   npx tsx tooling/bench/delivery/journal-cycle.ts --before /tmp/base15 [batches per run=50] [rounds=5]
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createOutputs, DeliveryPipeline, FileAckJournal, silentLogger, type AckJournal, type OutputConfig } from '../../../packages/sdk/src/host.js';
import { devoOutputConfig, startRsyslog } from '../../testkit/src/index.js';

const args = process.argv.slice(2);
const beforeAt = args.indexOf('--before');
if (beforeAt < 0) throw new Error('usage: journal-cycle.ts --before <tree> [batches] [rounds]');
const beforeTree = args.splice(beforeAt, 2)[1]!;
const BATCHES = Number(args[0] ?? 50);
const ROUNDS = Number(args[1] ?? 5);
const EVENTS = 2000;
const { FileAckJournal: BeforeJournal } = (await import(pathToFileURL(join(beforeTree, 'packages/sdk/src/host.ts')).href)) as { FileAckJournal: typeof FileAckJournal };
const PAD = 'x'.repeat(360);
const rsyslog = await startRsyslog({ countOnly: true });
let keyNumber = 0;

interface Cycle {
  msPerBatch: number;
  appendMedianMs: number;
}

/** Milliseconds per batch (submit → acknowledged → journaled), and the append's median, over `batches` batches. */
async function run(journal: AckJournal, batches: number): Promise<Cycle> {
  const block = devoOutputConfig(rsyslog) as Record<string, OutputConfig>;
  const pipeline = new DeliveryPipeline(createOutputs(block, { workDir: tmpdir(), log: silentLogger, hostname: 'bench-host' }), { statsPeriodMs: 0 });
  await pipeline.start();
  const appends: number[] = [];
  const t0 = performance.now();
  for (let b = 0; b < batches; b++) {
    const records = Array.from({ length: EVENTS }, (_, i) => ({ tag: 'cloud.office365.exchange.messagetrace', message: `{"n":${i},"pad":"${PAD}"}` }));
    const keys = Array.from({ length: EVENTS }, () => `k${String(keyNumber++).padStart(23, '0')}`);
    await (await pipeline.submit(records)).delivered;
    const a0 = performance.now();
    await journal.append('bench;journal;cycle', keys);
    appends.push(performance.now() - a0);
  }
  const msPerBatch = (performance.now() - t0) / batches;
  await pipeline.stop();
  await journal.close();
  appends.sort((a, b) => a - b);
  return { msPerBatch, appendMedianMs: appends[appends.length >> 1]! };
}

const kinds = [
  ['before', () => new BeforeJournal(mkdtempSync(join(tmpdir(), 'journal-before-')))],
  ['this tree', () => new FileAckJournal(mkdtempSync(join(tmpdir(), 'journal-this-')))],
] as const;

try {
  for (const [, make] of kinds) await run(make(), 5); // warm-up
  for (let round = 1; round <= ROUNDS; round++) {
    const cells: string[] = [];
    for (let k = 0; k < kinds.length; k++) {
      const [name, make] = kinds[(k + round - 1) % kinds.length]!;
      const { msPerBatch, appendMedianMs } = await run(make(), BATCHES);
      cells.push(`${name}: ${Math.round((EVENTS * 1000) / msPerBatch).toLocaleString('en-US')} events/s (${msPerBatch.toFixed(1)} ms a batch, append ${appendMedianMs.toFixed(2)} ms median)`);
    }
    console.log(`round ${round}, load ${loadavg()[0]!.toFixed(1)}: ${cells.join(' | ')}`);
  }
} finally {
  await rsyslog.stop();
}
