#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=4 --heap-growing-percent=175
import { runCollector } from '@collector/sdk/host';
import { awsSqsCollector } from '@collector/aws-sqs';

process.exitCode = await runCollector(awsSqsCollector, { bin: 'aws-sqs-collector' });
