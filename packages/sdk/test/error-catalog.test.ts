import { describe, expect, it } from 'vitest';
import { CollectorError, defineErrors, InitVariablesError } from '@collector/sdk';
import { errorSpecs, renderErrorTable } from '@collector/sdk/host';

describe('defineErrors', () => {
  const errors = defineErrors({
    startInFuture: { type: 'InitVariablesError', id: 2, message: 'Date {value} is in the future', path: 'inputs.x.services.{service}.start', cause: 'a start after now', remedy: 'Use a past time.' },
    refused: { type: 'PullError', id: 300, message: 'HTTP error occurred', cause: 'a 4xx', remedy: 'Check | the credentials.', retryable: true },
  });

  it('builds errors with the declared type, ID, filled message, path and remedy', () => {
    const error = errors.startInFuture({ value: '2999-01-01T00:00:00Z', service: 'audit' });
    expect(error).toBeInstanceOf(CollectorError);
    expect(error).toBeInstanceOf(InitVariablesError);
    expect(error.toLine()).toBe('InitVariablesError 2: Date 2999-01-01T00:00:00Z is in the future (inputs.x.services.audit.start)');
    expect(error.remedy).toBe('Use a past time.');
    expect(error.retryable).toBe(false);
  });

  it('appends what the vendor said after a period and keeps retryable', () => {
    const error = errors.refused({ detail: 'Vendor answered HTTP 403' });
    expect(error.toLine()).toBe('PullError 300: HTTP error occurred. Vendor answered HTTP 403');
    expect(error.retryable).toBe(true);
  });

  it('renders the README table from the same declaration', () => {
    const table = renderErrorTable(errorSpecs(errors)).split('\n');
    expect(table).toHaveLength(4);
    expect(table[3]).toBe('| PullError | 300 | `HTTP error occurred` | a 4xx | Check \\| the credentials. Retried on the next cycle. |');
  });

  it('refuses a table that declares one <Type> <ID> twice', () => {
    expect(() =>
      defineErrors({
        a: { type: 'SetupError', id: 100, message: 'a', cause: '', remedy: '' },
        b: { type: 'SetupError', id: 100, message: 'b', cause: '', remedy: '' },
      }),
    ).toThrow(/SetupError 100 twice/);
  });

  it('accepts a second message under one ID only when it names the first (sameIdAs)', () => {
    const table = defineErrors({
      malformed: { type: 'SetupError', id: 101, message: 'start <{value}> is malformed', cause: '', remedy: 'Fix it.' },
      inFuture: { type: 'SetupError', id: 101, message: 'start {value} is in the future', cause: '', remedy: 'Fix it.', sameIdAs: 'malformed' },
    });
    expect(table.inFuture({ value: 'x' }).toLine()).toBe('SetupError 101: start x is in the future');
    expect(renderErrorTable(errorSpecs(table)).split('\n')).toHaveLength(4);
    expect(() =>
      defineErrors({
        a: { type: 'SetupError', id: 100, message: 'a', cause: '', remedy: '' },
        b: { type: 'SetupError', id: 102, message: 'b', cause: '', remedy: '', sameIdAs: 'a' },
      }),
    ).toThrow(/not an earlier SetupError 102/);
    expect(() =>
      defineErrors({
        a: { type: 'SetupError', id: 100, message: 'a', cause: '', remedy: '' },
        b: { type: 'SetupError', id: 100, message: 'b', cause: '', remedy: '', sameIdAs: 'c' },
      }),
    ).toThrow(/not an earlier SetupError 100/);
  });
});
