#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=8
import { runCollector } from '@collector/sdk/host';
import { o365EmtCollector } from '@collector/o365-emt';

process.exitCode = await runCollector(o365EmtCollector, { bin: 'o365-emt-collector' });
