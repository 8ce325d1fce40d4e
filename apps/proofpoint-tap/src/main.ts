#!/usr/bin/env -S node --max-semi-space-size=16
// No MALLOC_MMAP_THRESHOLD_ here, unlike the other pull collectors: with Proofpoint's multi-megabyte pages it cost
// ~8 % more CPU per event in the benchmark (docs/benchmarks.md, Issue 20: memory), for ~20 MiB less idle RSS.
import { runCollector } from '@collector/sdk/host';
import { proofpointTapCollector } from '@collector/proofpoint-tap';

process.exitCode = await runCollector(proofpointTapCollector);
