#!/usr/bin/env node
import { runCollector } from '@collector/sdk';
import { awsSqsCollector } from '@collector/aws-sqs';

// The AWS SDK warns at the first client that Node 20 support ends in 2027; the image pins Node 20 on
// purpose, and the warning would otherwise land on stderr of every run.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
process.exitCode = await runCollector(awsSqsCollector, { bin: 'aws-sqs-collector' });
