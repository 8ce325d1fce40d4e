#!/usr/bin/env node
import { runCollector } from '@collector/sdk';
import { proofpointTapCollector } from '@collector/proofpoint-tap';

process.exitCode = await runCollector(proofpointTapCollector);
