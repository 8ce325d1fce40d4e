#!/usr/bin/env node
import { runCollector } from '@collector/sdk/host';
import { darktraceCollector } from '@collector/darktrace';

process.exitCode = await runCollector(darktraceCollector);
