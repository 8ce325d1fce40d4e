/**
 * `reset_persistence_auth` (YYYY-MM-DD): the SDK restarts the persistence (savepoint and dedup window) when
 * the configured value differs from the one the state was saved with, exactly once per new value.
 */
export function resetKeyOf(options: Record<string, unknown>): string | undefined {
  const value = options['reset_persistence_auth'];
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return undefined;
}
