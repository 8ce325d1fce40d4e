/**
 * Issue 20 (raw8): the per-event CPU of turning a page into the messages the runner queues, two ways, on pages
 * built as the simulators build them (what the vendor APIs send):
 *
 * - `parse`: `JSON.parse` of the page, the dedup key's fields read from each record, `encodeEvent`
 *   (`JSON.stringify` of the record with `@devo_pulling_id`), as the collectors did before;
 * - `scan`: `jsonRecords` (the page validated and split without parsing the records, the key's fields read from
 *   the text), `encodeEvent` appending the pulling id to the vendor's text, as they do now.
 *
 * Each message is then measured with `Buffer.byteLength`, as the delivery does when it writes it (which also
 * flattens a concatenated string). Both ways run in one process, alternated round by round (the order swapped
 * each round), and the CPU time of each is summed: a load-tolerant A/B on a shared machine. The dedup key's
 * hash is left out (the same in both).
 *
 *   node tooling/bench/dist/json-records.js [--rounds 9] [--ms 300]
 */
import { parseCli } from '@collector/testkit/cli';
import { jsonRecords, recordField, type HttpResponse } from '@collector/sdk';
import { encodeEvent } from '@collector/sdk/host';
import { generateLarkAuditInfos, generateO365Traces, generateProofpointEvents, startDarktraceSimulator, toO365GraphRow } from '@collector/simulators';

interface Case {
  name: string;
  text: string;
  path: string;
  fields: string[];
  events: number;
}

const PULLING_ID = '1765000000000';

function response(text: string): HttpResponse {
  return { status: 200, headers: {}, text, url: 'https://vendor.example/page', json: () => JSON.parse(text) as never };
}

/** Walks a dotted path in a parsed page. */
function at(body: unknown, path: string): unknown[] {
  let value = body;
  for (const key of path === '' ? [] : path.split('.')) value = (value as Record<string, unknown>)[key];
  return value as unknown[];
}

function viaParse(c: Case): number {
  let bytes = 0;
  for (const record of at(JSON.parse(c.text), c.path)) {
    for (const field of c.fields) if ((record as Record<string, unknown>)[field] === Symbol.iterator) bytes++;
    bytes += Buffer.byteLength(encodeEvent(record, PULLING_ID));
  }
  return bytes;
}

function viaScan(c: Case): number {
  let bytes = 0;
  for (const record of jsonRecords(response(c.text), c.path, c.fields).records) {
    for (const field of c.fields) if (recordField(record, field) === Symbol.iterator) bytes++;
    bytes += Buffer.byteLength(encodeEvent(record, PULLING_ID));
  }
  return bytes;
}

async function cases(): Promise<Case[]> {
  const now = Date.parse('2026-12-06T12:00:00Z');
  const lark = generateLarkAuditInfos({ count: 200, fromSeconds: now / 1000 - 3600, toSeconds: now / 1000, seed: 1 });
  const graph = generateO365Traces({ messages: 2000, from: new Date(now - 3_600_000), to: new Date(now), seed: 2 }).slice(0, 5000).map((row) => toO365GraphRow(row, true));
  const proofpoint = generateProofpointEvents({ service: 'messagesDelivered', count: 400, from: now - 3_600_000, to: now, recipientsPerMessage: 2, seed: 3 });
  const darktrace = await startDarktraceSimulator({ breaches: { from: now - 3_600_000, to: now, everyMs: 3_600 } });
  const breaches = darktrace.breachesBetween(new Date(now - 3_600_000), new Date(now));
  await darktrace.close();
  return [
    { name: 'lark audit_infos', text: JSON.stringify({ code: 0, msg: 'success', data: { has_more: true, page_token: 'x', items: lark } }), path: 'data.items', fields: ['unique_id'], events: lark.length },
    { name: 'darktrace modelbreaches', text: JSON.stringify(breaches), path: '', fields: ['pbid'], events: breaches.length },
    { name: 'o365 graph messageTraces', text: JSON.stringify({ '@odata.context': 'x', value: graph, '@odata.nextLink': 'https://graph/next' }), path: 'value', fields: ['id', 'messageId', 'recipientAddress', 'receivedDateTime', 'status'], events: graph.length },
    { name: 'proofpoint messagesDelivered', text: JSON.stringify({ queryEndTime: '2026-12-06T12:00:00Z', messagesDelivered: proofpoint }), path: 'messagesDelivered', fields: ['GUID', 'id', 'recipient', 'messageTime', 'clickTime', 'threatStatus', 'threatID', 'threatsInfoMap'], events: proofpoint.length },
  ];
}

/** CPU microseconds of running `way` on the page for about `ms` of CPU, and the events it handled. */
function measure(way: (c: Case) => number, c: Case, ms: number): { cpu: number; events: number } {
  const start = process.cpuUsage();
  let events = 0;
  let spent = 0;
  while (spent < ms * 1000) {
    way(c);
    events += c.events;
    const used = process.cpuUsage(start);
    spent = used.user + used.system;
  }
  return { cpu: spent, events };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const values = parseCli('node tooling/bench/dist/json-records.js', 'The per-event CPU of turning a page into queued messages, by parsing each record or by scanning the page\'s text, on pages built as the simulators build them; both ways alternated in one process.', {
    rounds: { type: 'string', default: '9', help: 'rounds per page (each measures both ways; the table takes medians)' },
    ms: { type: 'string', default: '300', help: 'milliseconds each way runs per round' },
  });
  const rounds = Number(values.rounds);
  const ms = Number(values.ms);
  console.log(`| page | events a page | bytes an event | parse + stringify, ns / event | scan + append, ns / event | scan / parse |`);
  console.log(`|---|---:|---:|---:|---:|---:|`);
  for (const c of await cases()) {
    if (viaParse(c) !== viaScan(c)) throw new Error(`${c.name}: the two ways wrote different byte counts`);
    // Warm both up (JIT) before measuring.
    measure(viaParse, c, 200);
    measure(viaScan, c, 200);
    const parse: number[] = [];
    const scan: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [viaParse, viaScan] : [viaScan, viaParse];
      for (const way of order) {
        const { cpu, events } = measure(way, c, ms);
        (way === viaParse ? parse : scan).push((cpu * 1000) / events);
      }
    }
    const p = median(parse);
    const s = median(scan);
    console.log(`| ${c.name} | ${c.events} | ${Math.round(c.text.length / c.events)} | ${p.toFixed(0)} | ${s.toFixed(0)} | ${(s / p).toFixed(2)} |`);
  }
}

await main();
