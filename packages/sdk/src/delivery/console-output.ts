import { formatLogLine } from '../telemetry/logger.js';
import { pythonSpacedObject } from './internal-sender.js';
import type { DeliveryRecord, Output, SenderService } from './types.js';

/**
 * `type: console` (alias `stdout`): prints each event as the manuals' ConsoleSender logs it, a log line of its own
 * whose message is `{"message_timestamp": "...", "message_tag": "...", "message_content": "..."}` (Python's
 * spacing): `2024-06-24T08:10:00.216    INFO OutputProcess::ConsoleSender(standard_senders,console_sender_0) -> {...}`,
 * or the same as a JSON log line with `LOG_FORMAT=json`. Written to the stream directly, not through the
 * logger: the events print whatever the log level. Acknowledges synchronously, so the SDK is usable end to
 * end without a Devo receiver.
 */
export class ConsoleOutput implements Output {
  readonly type = 'console';
  /** As the manuals' ConsoleSender: the collector's own lines (internal) are printed too. */
  readonly services = ['standard', 'internal', 'lookup'] as const;
  constructor(
    readonly name: string,
    private readonly options: { stream?: NodeJS.WritableStream; json?: boolean } = {},
  ) {}

  async start(): Promise<void> {}

  async write(records: readonly DeliveryRecord[], service: SenderService): Promise<void> {
    const now = new Date();
    const module = `ConsoleSender(${service}_senders,console_sender_0)`;
    let text = '';
    for (const r of records) {
      const ts = (r.time ?? now).toISOString().replace('T', ' ').slice(0, 23);
      const msg = pythonSpacedObject([['message_timestamp', ts], ['message_tag', r.tag], ['message_content', r.message]]);
      text += `${formatLogLine({ time: now, level: 'info', process: 'OutputProcess', module, msg }, this.options.json === true)}\n`;
    }
    if (text) (this.options.stream ?? process.stdout).write(text);
  }

  ready(): boolean {
    return true;
  }

  async stop(): Promise<void> {}
}
