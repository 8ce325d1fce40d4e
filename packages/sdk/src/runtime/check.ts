import { CollectorError, describeError } from '../errors/collector-error.js';
import type { CollectorRuntime } from './collector-runtime.js';

/** `--check`: setup and the smallest request per service, printed as a checklist. Touches no state. */
export async function runCheck(runtime: CollectorRuntime, out: NodeJS.WritableStream): Promise<number> {
  let failed = 0;
  const line = (ok: boolean, what: string, detail = '') => {
    if (!ok) failed++;
    out.write(`[${ok ? 'OK' : 'FAIL'}] ${what}${detail ? `: ${detail}` : ''}\n`);
  };
  for (const input of runtime.inputs) {
    for (const runner of input.runners) {
      const what = `${input.definition.name}/${runner.totals.service}`;
      try {
        await runner.init();
        await runner.probe();
        line(true, what);
      } catch (error) {
        const remedy = error instanceof CollectorError ? (error.remedy ?? input.definition.remedies?.[`${error.type} ${error.id}`]) : undefined;
        line(false, what, `${describeError(error)}${remedy ? `\n       remedy: ${remedy}` : ''}`);
      }
    }
  }
  out.write(`${failed === 0 ? 'All checks passed' : `${failed} check(s) failed`}\n`);
  await runtime.stop().catch(() => undefined);
  return failed === 0 ? 0 : 1;
}
