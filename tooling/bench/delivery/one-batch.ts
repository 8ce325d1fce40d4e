// What the acknowledgement settle costs a service that keeps ONE unacknowledged batch at a time (a service
// with a dedup key): 1000-event batches of 1 KB JSON submitted one after the other, each awaited, into rsyslog,
// per ack_settle_in_ms, the settings alternating within each round. The journal's fsync of such a service
// is not included (0.36 ms here).
//
//   npx tsx tooling/bench/delivery/one-batch.ts [ack_settle_in_ms list=20,5,2] [batches per run=60] [rounds=3]
import { loadavg } from 'node:os';
import { tmpdir } from 'node:os';
import { createOutputs, DeliveryPipeline, silentLogger, type OutputConfig } from '../../../packages/sdk/src/host.js';
import { devoOutputConfig, startRsyslog } from '../../testkit/src/index.js';

const SETTLES = (process.argv[2] ?? '20,5,2').split(',').map(Number);
const BATCHES = Number(process.argv[3] ?? 60);
const ROUNDS = Number(process.argv[4] ?? 3);
const PAD = 'x'.repeat(1000);
const rsyslog = await startRsyslog({ countOnly: true });

/** Milliseconds per batch, from submit to acknowledgement, over `batches` batches. */
async function run(settle: number, batches: number): Promise<number> {
  const block = devoOutputConfig(rsyslog) as Record<string, OutputConfig>;
  Object.assign(block['devo_1']!.config, { ack_settle_in_ms: settle });
  const pipeline = new DeliveryPipeline(createOutputs(block, { workDir: tmpdir(), log: silentLogger, hostname: 'bench-host' }), { statsPeriodMs: 0 });
  await pipeline.start();
  const t0 = performance.now();
  for (let b = 0; b < batches; b++) {
    const records = Array.from({ length: 1000 }, (_, i) => ({ tag: 'my.app.bench.one', message: `{"n":${i},"pad":"${PAD}"}` }));
    await (await pipeline.submit(records)).delivered;
  }
  const ms = (performance.now() - t0) / batches;
  await pipeline.stop();
  return ms;
}

try {
  for (const settle of SETTLES) await run(settle, 5); // warm-up
  for (let round = 1; round <= ROUNDS; round++) {
    const cells: string[] = [];
    for (let k = 0; k < SETTLES.length; k++) {
      const settle = SETTLES[(k + round - 1) % SETTLES.length]!;
      const ms = await run(settle, BATCHES);
      cells.push(`${settle} ms: ${Math.round(1_000_000 / ms).toLocaleString('en-US')} events/s (${ms.toFixed(1)} ms a batch)`);
    }
    console.log(`round ${round}, load ${loadavg()[0]!.toFixed(1)}: ${cells.join(' | ')}`);
  }
} finally {
  await rsyslog.stop();
}
