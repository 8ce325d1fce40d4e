import { describe, expect, it } from 'vitest';
import { JsonValueScanner } from '../src/formats/json-scanner.js';
import { LineSplitter } from '../src/formats/lines.js';
import { RecordTooLargeError } from '../src/formats/record-limit.js';

// A gzip bomb inflates to one endless record; the decoders must refuse it before holding it whole.
describe('record size bound', () => {
  it('LineSplitter refuses a line longer than the bound, however it is chunked', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l), 1000);
    splitter.push(Buffer.from('short line\n'));
    expect(() => {
      for (let i = 0; i < 20; i++) splitter.push(Buffer.alloc(100, 0x61));
    }).toThrow(RecordTooLargeError);
    expect(lines).toEqual(['short line']);
    const whole = new LineSplitter(() => undefined, 1000);
    expect(() => whole.push(Buffer.concat([Buffer.alloc(2000, 0x61), Buffer.from('\n')]))).toThrow(/a record larger than 1000 bytes/);
  });

  it('LineSplitter passes lines up to the bound', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l), 1000);
    splitter.push(Buffer.from(`${'a'.repeat(999)}\n${'b'.repeat(10)}`));
    splitter.end();
    expect(lines.map((l) => l.length)).toEqual([999, 10]);
  });

  it('JsonValueScanner refuses a Records element, or a top-level string, longer than the bound', () => {
    const units: string[] = [];
    const sink = { unit: (bytes: Buffer, start: number, end: number) => void units.push(bytes.subarray(start, end).toString()) };
    const scanner = new JsonValueScanner(['Records'], sink, 1000);
    scanner.push(Buffer.from('{"Records":[{"eventID":"ok"},{"eventID":"bomb","x":"'));
    expect(() => {
      for (let i = 0; i < 20; i++) scanner.push(Buffer.alloc(100, 0x61));
    }).toThrow(RecordTooLargeError);
    expect(units).toEqual(['{"eventID":"ok"}']);
    const keyBomb = new JsonValueScanner(['Records'], sink, 1000);
    keyBomb.push(Buffer.from('{"'));
    expect(() => {
      for (let i = 0; i < 20; i++) keyBomb.push(Buffer.alloc(100, 0x62));
    }).toThrow(RecordTooLargeError);
  });
});
