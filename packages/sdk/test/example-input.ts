import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cutoverStart, defineCollector, defineInput, defineService, InitVariablesError, parseConfigTime, PullError, SetupError } from '@collector/sdk';

// Tests deliver this collector's events to `CapturingOutput` from @collector/testkit: a custom Output as a
// library user would write one, recording every acknowledged line.

/** A tiny vendor API for SDK tests: GET /events?from&to (epoch ms) returns events created in [from, to). */
export interface ExampleEvent {
  id: string;
  t: number;
}

export async function startExampleApi(events: ExampleEvent[], token = 'good-token') {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end('{"error":"bad token"}');
      return;
    }
    const from = Number(url.searchParams.get('from'));
    const to = Number(url.searchParams.get('to'));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(events.filter((e) => e.t >= from && e.t < to)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    events,
    get requests() {
      return requests;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** With `page_tags`, the tag of an event: runs of three events (by the number in its id, `e<n>`) per tag in turn. */
export function exampleTag(tags: readonly string[], event: ExampleEvent): string {
  return tags[Math.floor(Number(event.id.replace(/^\D+/, '')) / 3) % tags.length]!;
}

export const exampleCollector = defineCollector({
  name: 'example_collector',
  version: '0.0.1',
  inputs: [
    defineInput<{ base: string; token: string }>({
      name: 'example',
      credentials: { type: 'object', required: ['token'], properties: { token: { type: 'string' } } },
      async setup(ctx) {
        const base = String((ctx.input.services?.['events'] as Record<string, unknown> | undefined)?.['override_base_url']);
        const token = String(ctx.credentials['token']);
        const res = await ctx.http.request({ url: `${base}/events?from=0&to=0`, headers: { authorization: `Bearer ${token}` } });
        if (res.status === 401) throw new SetupError(100, 'Wrong credentials');
        return { base, token };
      },
      services: {
        events: defineService<{ base: string; token: string }, { start_time: string; override_base_url: string }, number>({
          tag: 'my.app.example.events',
          moduleName: 'ExamplePuller',
          options: {
            type: 'object',
            required: ['start_time', 'override_base_url'],
            properties: {
              start_time: { type: 'string' },
              override_base_url: { type: 'string' },
              lookback_ms: { type: 'integer', default: 0 },
              page_size: { type: 'integer', minimum: 1 },
              // Pages go to these tags in turn (PullBatch.tag), for tests of services that yield several tags.
              page_tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
            },
          },
          init(ctx) {
            const start = parseConfigTime(ctx.options.start_time);
            if (!start) throw new InitVariablesError(1, `start_time is not as per the datetime_format`, { path: `${ctx.path}.start_time` });
            if (start > ctx.now()) throw new InitVariablesError(2, `Date ${ctx.options.start_time} is in the future`, { path: `${ctx.path}.start_time` });
          },
          resetKey: (o) => o.start_time,
          dedupKey: (e: ExampleEvent) => e.id,
          async *pull(ctx, checkpoint) {
            const start = parseConfigTime(ctx.options.start_time)!;
            const lookback = Number((ctx.options as Record<string, unknown>)['lookback_ms'] ?? 0);
            const from = cutoverStart(ctx, lookback) ?? new Date(checkpoint === undefined || checkpoint === null ? start.getTime() : Math.max(start.getTime(), checkpoint - lookback));
            for (const w of ctx.windows({ from, maxSpanMs: 3_600_000 })) {
              const res = await ctx.http.request({ url: `${ctx.client.base}/events`, query: { from: w.start.getTime(), to: w.end.getTime() }, headers: { authorization: `Bearer ${ctx.client.token}` } });
              if (res.status !== 200) throw new PullError(300, `HTTP ${res.status}`);
              // Like a paged vendor API: pages of page_size inside the window, the checkpoint after the last.
              const events = res.json<ExampleEvent[]>();
              const size = Number((ctx.options as Record<string, unknown>)['page_size'] ?? (events.length || 1));
              const tags = (ctx.options as { page_tags?: string[] }).page_tags;
              if (tags) {
                // Runs of events under each tag in turn (see exampleTag), in order: several tags in one batch.
                for (let i = 0; i < events.length; ) {
                  const tag = exampleTag(tags, events[i]!);
                  let end = i + 1;
                  while (end < events.length && end - i < size && exampleTag(tags, events[end]!) === tag) end++;
                  yield { events: events.slice(i, end), tag };
                  i = end;
                }
                yield { events: [], checkpoint: w.end.getTime() };
                continue;
              }
              for (let i = size; i < events.length; i += size) yield { events: events.slice(i - size, i) };
              yield { events: events.slice(Math.max(0, Math.ceil(events.length / size) - 1) * size), checkpoint: w.end.getTime() };
            }
          },
        }),
      },
    }),
  ],
});
