import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Everything after this line in a report is written by hand (findings, context) and kept by reruns. */
export const HAND_WRITTEN_MARKER = '<!-- Written by hand below this line: `pnpm bench` / `pnpm chaos` keep it. -->';

/** Writes the generated report, keeping the hand-written part of the existing file. */
export function writeReport(file: string, generated: string): void {
  let kept = `${HAND_WRITTEN_MARKER}\n`;
  if (existsSync(file)) {
    const old = readFileSync(file, 'utf8');
    const at = old.indexOf(HAND_WRITTEN_MARKER);
    // Keep one marker, whatever happened to the file before.
    if (at >= 0) kept = `${HAND_WRITTEN_MARKER}\n${old.slice(at).split(HAND_WRITTEN_MARKER).join('').replace(/^\n+/, '\n')}`;
  }
  writeFileSync(file, `${generated.trimEnd()}\n\n${kept}`);
}
