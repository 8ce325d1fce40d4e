/** `{...}` + suffix fields → `{...,suffix}`; `{}` → `{suffix}`. `text` must be one JSON object, single line. */
export function appendFields(text: string, suffix: string): string {
  let end = text.length - 1;
  while (end > 0 && text.charCodeAt(end) !== 125 /* } */) end--;
  let last = end - 1;
  while (last > 0 && (text.charCodeAt(last) === 32 || text.charCodeAt(last) === 9)) last--;
  if (text.charCodeAt(last) === 123 /* { */) return `${text.slice(0, end)}${suffix}}`;
  return `${text.slice(0, end)},${suffix}}`;
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/;

/** A JSON string literal; the fast path skips JSON.stringify for values that need no escaping. */
export function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/** Precomputed `"name":` prefixes for records built from named fields. */
export function fieldPrefixes(names: readonly string[]): string[] {
  return names.map((n, i) => `${i === 0 ? '' : ','}${JSON.stringify(n)}:`);
}
