#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=16
import { runCollector } from '@collector/sdk/host';
import { larkCollector } from '@collector/lark';

process.exitCode = await runCollector(larkCollector);
