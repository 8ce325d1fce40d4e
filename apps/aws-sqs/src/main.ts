#!/usr/bin/env node
import { runCollector } from '@collector/sdk';
import { awsSqsCollector } from '@collector/aws-sqs';

process.exitCode = await runCollector(awsSqsCollector, { bin: 'aws-sqs-collector' });
