#!/usr/bin/env node
import { runCollector } from '@collector/sdk';
import { darktraceCollector } from '@collector/darktrace';

process.exitCode = await runCollector(darktraceCollector);
