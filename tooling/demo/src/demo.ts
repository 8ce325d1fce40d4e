#!/usr/bin/env node
// `pnpm demo`: the five collectors against their simulators, delivering to a local TLS receiver.
import { cliMistake, parseCli } from '@collector/testkit/cli';
import { runDemo } from './run-demo.js';
import { scenarios } from './scenarios.js';

const COMMAND = 'pnpm demo';
const RECEIVERS = ['auto', 'node', 'rsyslog'] as const;
const values = parseCli(COMMAND, 'The five collectors against their simulators, delivering to a local TLS receiver; prints what arrived per tag.', {
  only: { type: 'string', help: `comma-separated collectors (${scenarios.map((s) => s.vendor).join(', ')})` },
  scale: { type: 'string', default: '1', help: 'history size multiplier (1: a few thousand events per collector)' },
  receiver: { type: 'string', default: 'auto', help: `${RECEIVERS.join(', ')}: auto is rsyslogd when installed, else a Node TLS receiver` },
  keep: { type: 'boolean', default: false, help: 'keep the work directory (PKI, each collector\'s config/state/collector.log)' },
}, { epilogue: 'Example: pnpm demo --only lark,darktrace --scale 2' });
const only = values.only?.split(',').map((s) => s.trim());
const selected = only ? scenarios.filter((s) => only.includes(s.vendor)) : scenarios;
if (only && selected.length !== only.length) cliMistake(COMMAND, `unknown collector in --only; known: ${scenarios.map((s) => s.vendor).join(', ')}`);
const scale = Number(values.scale);
if (!(scale > 0)) cliMistake(COMMAND, `--scale must be a number above 0, not ${values.scale}`);
const receiver = values.receiver as (typeof RECEIVERS)[number];
if (!RECEIVERS.includes(receiver)) cliMistake(COMMAND, `--receiver must be one of ${RECEIVERS.join(', ')}, not ${values.receiver}`);
const result = await runDemo({ scenarios: selected, scale, receiver, keep: values.keep });
if (values.keep) process.stdout.write(`Kept ${result.dir}\n`);
process.exit(result.ok ? 0 : 1);
