#!/usr/bin/env node
import { runCollector } from '@collector/sdk/host';
import { awsSqsCollector } from '@collector/aws-sqs';

process.exitCode = await runCollector(awsSqsCollector, { bin: 'aws-sqs-collector' });
