/**
 * Caches a bearer token: reused until `maxAgeMs` (or the vendor's own expiry) minus `refreshEarlyMs`,
 * refreshed at once after `invalidate()` (the vendor said it is stale), and fetched only once when several
 * requests need it at the same moment.
 */
export interface Token {
  value: string;
  /** Seconds the vendor says the token lives. */
  expiresInSeconds?: number;
}

export class TokenCache {
  private token: { value: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly fetchToken: () => Promise<Token>,
    private readonly options: { maxAgeMs: number; refreshEarlyMs?: number; clock?: () => number },
  ) {}

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  get valid(): boolean {
    return this.token !== undefined && this.now() < this.token.expiresAt;
  }

  async get(): Promise<string> {
    if (this.token && this.valid) return this.token.value;
    this.pending ??= (async () => {
      try {
        const fetched = await this.fetchToken();
        const life = Math.min(this.options.maxAgeMs, (fetched.expiresInSeconds ?? Infinity) * 1000);
        this.token = { value: fetched.value, expiresAt: this.now() + life - (this.options.refreshEarlyMs ?? 0) };
        return fetched.value;
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }

  invalidate(): void {
    this.token = undefined;
  }
}
