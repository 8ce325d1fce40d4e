/**
 * Polls `condition` every 20 ms until it holds; rejects after `timeoutMs` naming `what`, so a daemon-mode
 * test fails with a reason instead of hanging until vitest's own timeout.
 */
export async function waitUntil(condition: () => boolean, options: { timeoutMs?: number; what?: string } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${options.what ?? 'condition'} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
