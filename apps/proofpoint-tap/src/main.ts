#!/usr/bin/env -S MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=8
// As Darktrace's: its records are forwarded as the vendor's text and wait as bytes, so a 2 x 8 MiB young generation
// no longer costs measurable CPU; with the fixed malloc threshold (batch buffers in mappings of their own) the
// peak RSS of a 100,000-event catch-up is 20-26 MiB lower (docs/benchmarks.md, "Proofpoint CPU and peak, wave 9").
// Either alone did not lower it. Earlier (records parsed) the threshold had cost ~8 % CPU.
import { runCollector } from '@collector/sdk/host';
import { proofpointTapCollector } from '@collector/proofpoint-tap';

process.exitCode = await runCollector(proofpointTapCollector);
