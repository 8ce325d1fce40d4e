import { describe, expect, it } from 'vitest';
import { logLineShape, missingLogLines } from '../src/index.js';

describe('logLineShape: a manual line as a pattern', () => {
  it('lets dates, numbers and … vary and keeps the words literal', () => {
    const shape = logLineShape('INFO InputProcess::P(a,123,b,predefined) -> Running a new pipeline (2022-12-20T12:02:16.228314 - 2022-12-20T12:17:16.228314)');
    expect(shape.test('2026-12-06T12:00:00.000    INFO InputProcess::P(a,964383,b,predefined) -> Running a new pipeline (2026-03-19T10:45:00Z - 2026-03-19T11:00:00Z)')).toBe(true);
    expect(shape.test('INFO InputProcess::P(a,1,b,predefined) -> Running a pipeline (2026-03-19T10:45:00Z - 2026-03-19T11:00:00Z)')).toBe(false);
    expect(logLineShape("Savepoint reached: Updating persistence with -> …").test('Savepoint reached: Updating persistence with -> {"start_time":"x"}')).toBe(true);
    expect(logLineShape('Time Window FROM: 2023-12-19 04:35:36.946633+00:00 TO: 2023-12-19 05:35:36.946633+00:00').test('Time Window FROM: 2026-12-06 10:00:00+00:00 TO: 2026-12-06 11:00:00+00:00')).toBe(true);
  });

  it('names the manual lines that drifted', () => {
    const logs = 'No events detected. Pipeline summary: 0 event(s) retrieved.\nPull Started\n';
    expect(missingLogLines(logs, ['Pull Started', 'No events detected. Pull Summary: 1 request(s) made, 0 event(s) filtered, 0 event(s) sent to Devo.'])).toEqual([
      'No events detected. Pull Summary: 1 request(s) made, 0 event(s) filtered, 0 event(s) sent to Devo.',
    ]);
  });
});
