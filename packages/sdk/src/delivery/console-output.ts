import { pythonSpacedObject } from './internal-sender.js';
import type { DeliveryRecord, Output, SenderService } from './types.js';

/**
 * `type: console` (alias `stdout`): prints each event as the manuals' ConsoleSender shows it (`{"message_timestamp":
 * "...", "message_tag": "...", "message_content": "..."}`, Python's spacing). Acknowledges
 * synchronously, so the SDK is usable end to end without a Devo receiver.
 */
export class ConsoleOutput implements Output {
  readonly type = 'console';
  /** As the manuals' ConsoleSender: the collector's own lines (internal) are printed too. */
  readonly services = ['standard', 'internal', 'lookup'] as const;
  constructor(
    readonly name: string,
    private readonly stream: NodeJS.WritableStream = process.stdout,
  ) {}

  async start(): Promise<void> {}

  async write(records: readonly DeliveryRecord[], _service: SenderService): Promise<void> {
    let text = '';
    for (const r of records) {
      const ts = (r.time ?? new Date()).toISOString().replace('T', ' ').slice(0, 23);
      text += `${pythonSpacedObject([['message_timestamp', ts], ['message_tag', r.tag], ['message_content', r.message]])}\n`;
    }
    if (text) this.stream.write(text);
  }

  ready(): boolean {
    return true;
  }

  async stop(): Promise<void> {}
}
