#!/usr/bin/env node
import { runCollector } from '@collector/sdk/host';
import { proofpointTapCollector } from '@collector/proofpoint-tap';

process.exitCode = await runCollector(proofpointTapCollector);
