#!/usr/bin/env node
import { runCollector } from '@collector/sdk/host';
import { o365EmtCollector } from '@collector/o365-emt';

process.exitCode = await runCollector(o365EmtCollector, { bin: 'o365-emt-collector' });
