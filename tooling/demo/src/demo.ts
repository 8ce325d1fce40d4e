#!/usr/bin/env node
// `pnpm demo`: the five collectors against their simulators, delivering to a local TLS receiver.
import { parseArgs } from 'node:util';
import { runDemo } from './run-demo.js';
import { scenarios } from './scenarios.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    scale: { type: 'string' },
    receiver: { type: 'string' },
    keep: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`Usage: pnpm demo [-- --only lark,darktrace] [--scale 2] [--receiver auto|node|rsyslog] [--keep]

  --only      comma-separated collectors (${scenarios.map((s) => s.vendor).join(', ')})
  --scale     history size multiplier (default 1: a few thousand events per collector)
  --receiver  auto (rsyslogd when installed, else a Node TLS receiver), node or rsyslog
  --keep      keep the work directory (PKI, each collector's config/state/collector.log)
`);
  process.exit(0);
}
const only = values.only?.split(',').map((s) => s.trim());
const selected = only ? scenarios.filter((s) => only.includes(s.vendor)) : scenarios;
if (only && selected.length !== only.length) {
  process.stderr.write(`unknown collector in --only; known: ${scenarios.map((s) => s.vendor).join(', ')}\n`);
  process.exit(2);
}
const receiver = (values.receiver ?? 'auto') as 'auto' | 'node' | 'rsyslog';
const result = await runDemo({ scenarios: selected, scale: values.scale ? Number(values.scale) : 1, receiver, keep: values.keep === true });
if (values.keep) process.stdout.write(`Kept ${result.dir}\n`);
process.exit(result.ok ? 0 : 1);
