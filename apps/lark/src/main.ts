#!/usr/bin/env node
import { runCollector } from '@collector/sdk/host';
import { larkCollector } from '@collector/lark';

process.exitCode = await runCollector(larkCollector);
