/** One entry of `requests_limits` as the DCSDK's collector definitions write it. */
export interface RequestsLimit {
  period: '1d' | '1h' | '1m' | '1s' | string;
  /** -1 means unlimited. */
  number_of_requests: number;
}
