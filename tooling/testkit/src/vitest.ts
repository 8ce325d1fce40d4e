// Set-ups for vitest files only (`@collector/testkit/vitest`): the main entry is also imported by the benches,
// which run outside vitest, so nothing there may touch vitest's hooks.
import { afterAll, beforeAll } from 'vitest';
import { startRsyslog, type Rsyslog, type RsyslogOptions } from './rsyslog.js';

/**
 * One real rsyslog (TLS, client certificates) for the whole file: started before its first test, stopped after
 * its last. Returns the receiver as a stand-in that forwards to it once started, so a file declares
 * `const rsyslog = useRsyslog();` at the top and uses `rsyslog.port`, `rsyslog.count()` in its tests.
 */
export function useRsyslog(options?: RsyslogOptions): Rsyslog {
  let started: Rsyslog | undefined;
  beforeAll(async () => {
    started = await startRsyslog(options);
  });
  afterAll(async () => {
    await started?.stop();
  });
  return new Proxy({} as Rsyslog, {
    get(_, name) {
      if (!started) throw new Error(`rsyslog.${String(name)} used outside a test: useRsyslog() starts it in beforeAll`);
      const value = Reflect.get(started, name) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(started) : value;
    },
  });
}
