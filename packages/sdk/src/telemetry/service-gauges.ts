/** The custom-gauge hook handed to services as `ctx.metrics`. */
export interface ServiceGauges {
  /**
   * Sets `collector_<name>{input, service}` to `value` (e.g. `ctx.metrics.gauge('sqs_messages_in_flight', 3)`).
   * `name`: lower-case letters, digits and `_`; the `collector_` prefix is added when missing.
   */
  gauge(name: string, value: number): void;
  /**
   * Adds `delta` to the counter `collector_<name>_total{input, service}` (e.g.
   * `ctx.metrics.count('sqs_messages_deleted', 10)`): the runtime keeps the total, so a service keeps no
   * counters of its own across cycles.
   */
  count(name: string, delta: number): void;
}
