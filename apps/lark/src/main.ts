#!/usr/bin/env node
import { runCollector } from '@collector/sdk';
import { larkCollector } from '@collector/lark';

process.exitCode = await runCollector(larkCollector);
