/**
 * Log lines as the vendors' manuals print them, turned into patterns that find the same line in our output:
 * operators grep for these lines, so a test lists the manual's text and checks each one appears.
 *
 * In a manual line, what varies from run to run matches anything of its kind: a date-time (with `T` or a
 * space, with or without fractions and a zone: ours print `2026-03-19T10:45:00Z` where the manual's Python
 * printed `2022-12-20T12:02:16.228314`), any number, and `…` (the test's own wildcard, for a value the
 * manual prints in Python's notation, e.g. a dict). Everything else is literal.
 */
const DATE_TIME = /\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?/g;
const NUMBER = /\d+(?:\.\d+)?/g;
const ANY_DATE_TIME = String.raw`\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?`;
const ANY_NUMBER = String.raw`\d+(?:\.\d+)?`;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The pattern of one manual line (the whole line, level and module included, or only its message). */
export function logLineShape(manualLine: string): RegExp {
  // Mark the variable parts with control characters first, so escaping leaves them alone.
  const marked = manualLine.replace(DATE_TIME, '\u0001').replace(NUMBER, '\u0002');
  const source = marked
    .split('…')
    .map((piece) => escape(piece).replace(/\u0001/g, ANY_DATE_TIME).replace(/\u0002/g, ANY_NUMBER))
    .join('.*');
  return new RegExp(source);
}

/** The manual lines none of whose shape appears in `logs` (empty when every one is there). */
export function missingLogLines(logs: string, manualLines: readonly string[]): string[] {
  return manualLines.filter((line) => !logLineShape(line).test(logs));
}
