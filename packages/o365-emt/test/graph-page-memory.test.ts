import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { LARGE_PAGE_CHARS, type HttpResponse, type PullContext } from '@collector/sdk';
import type { O365Client } from '../src/client.js';
import { parseServiceOptions } from '../src/config.js';
import { graphPages } from '../src/services/message-trace-graph.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const PATH = 'inputs.x.services.graph';
const OPTIONS = parseServiceOptions('graph', { override_base_url: 'https://graph.example', override_base_auth_url: 'https://login.example' }, PATH);

/**
 * A ctx whose client answers the given pages (as JSON texts) in turn; with `responses`, a weak reference to each
 * response, which is then reachable only through what graphPages keeps.
 */
function answering(pages: unknown[], responses?: WeakRef<HttpResponse>[]) {
  const quiet = { debug: () => undefined, info: () => undefined, warning: () => undefined, error: () => undefined };
  const client = {
    get: async () => {
      const text = JSON.stringify(pages.shift());
      const res: HttpResponse = { status: 200, headers: {}, text, url: 'https://graph.example/messageTraces', json: <T>() => JSON.parse(text) as T };
      responses?.push(new WeakRef(res));
      return res;
    },
  };
  return { client, http: {}, log: quiet, path: PATH } as unknown as PullContext<O365Client, Record<string, unknown>>;
}

describe('graphPages', () => {
  it('keeps no page text while the rows it yielded are consumed (a page text is ~1.6 MB a 5000-row page)', async () => {
    const responses: WeakRef<HttpResponse>[] = [];
    const ctx = answering(
      [
        { value: [{ id: 'a', recipientAddress: 'x@example.com' }], '@odata.nextLink': 'https://graph.example/next' },
        { value: [{ id: 'b', recipientAddress: 'y@example.com' }] },
      ],
      responses,
    );
    const pages = graphPages(ctx, OPTIONS, new Date(0), new Date(60_000));
    const first = await pages.next();
    expect(first.value).toEqual([{ id: 'a', recipientAddress: 'x@example.com' }]);
    // While the caller works on the rows (the runner encodes them, then waits for room in its queue), the
    // response and its text must be garbage: held by the generator, every scavenge in between promoted it.
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(responses).toHaveLength(1);
    expect(responses[0]!.deref()).toBeUndefined();
    expect((await pages.next()).value).toEqual([{ id: 'b', recipientAddress: 'y@example.com' }]);
    expect((await pages.next()).done).toBe(true);
  });

  it('parses a page over LARGE_PAGE_CHARS (after a scavenge of its own) into the same rows, every one once', async () => {
    const row = (i: number) => ({ id: `trace-${i}`, messageId: `<m${i}@example.com>`, recipientAddress: `r${i}@example.com`, subject: `caf\u00e9 },{"x": ${i}`, size: i, status: 'delivered' });
    const big = Array.from({ length: 6000 }, (_, i) => row(i));
    expect(JSON.stringify({ value: big }).length).toBeGreaterThan(LARGE_PAGE_CHARS);
    const ctx = answering([{ value: big, '@odata.nextLink': 'https://graph.example/next' }, { value: [row(6000)] }]);
    const got: unknown[] = [];
    for await (const page of graphPages(ctx, OPTIONS, new Date(0), new Date(60_000))) got.push(...page);
    expect(got).toEqual([...big, row(6000)]);
  });
});
