import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConsoleOutput, createLogger, createOutputs } from '@collector/sdk/host';

/** The console output prints each event as the manuals' ConsoleSender logs it, in the logger's format. */
afterEach(() => void vi.restoreAllMocks());

function capture() {
  const stream = new PassThrough();
  const box = { text: '' };
  stream.on('data', (d) => (box.text += d));
  return { stream, box };
}

const EVENT = { tag: 'my.app.lark.audit', message: '{"unique_id":"7","@devo_pulling_id":"1"}', time: new Date('2024-06-24T02:45:25.789Z') };

describe('console output', () => {
  it("prints the manual's ConsoleSender line per event, with the sender service in its name", async () => {
    const { stream, box } = capture();
    const output = new ConsoleOutput('console_1', { stream });
    await output.write([EVENT], 'standard');
    await output.write([{ tag: 'devo.collectors.out.local.info', message: '{"msg": "Pull Started"}' }], 'internal');
    const lines = box.text.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3} {4}INFO OutputProcess::ConsoleSender\(standard_senders,console_sender_0\) -> \{"message_timestamp": "2024-06-24 02:45:25\.789", "message_tag": "my\.app\.lark\.audit", "message_content": "\{\\"unique_id\\":\\"7\\",\\"@devo_pulling_id\\":\\"1\\"\}"\}$/,
    );
    expect(lines[1]).toContain(' INFO OutputProcess::ConsoleSender(internal_senders,console_sender_0) -> {"message_timestamp": "');
  });

  it('prints JSON log lines whose msg is the event object when the logger writes JSON (LOG_FORMAT=json)', async () => {
    let stdout = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += String(chunk);
      return true;
    });
    const log = createLogger({ json: true, stream: capture().stream });
    const [output] = createOutputs({ console_1: { type: 'console', config: {} } }, { workDir: '/nonexistent', log, hostname: 'h' });
    await output!.write([EVENT], 'standard');
    vi.restoreAllMocks();
    const line = JSON.parse(stdout.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', process: 'OutputProcess', module: 'ConsoleSender(standard_senders,console_sender_0)' });
    expect(Number.isNaN(Date.parse(String(line['time'])))).toBe(false);
    expect(JSON.parse(String(line['msg']))).toEqual({ message_timestamp: '2024-06-24 02:45:25.789', message_tag: 'my.app.lark.audit', message_content: EVENT.message });
  });
});
