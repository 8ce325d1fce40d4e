import { devoOutputConfig, type Rsyslog } from '@collector/testkit';

/**
 * The devo_platform output to the test rsyslog over TLS (client certificate, CA verified). Reconnect waits
 * are capped so a receiver that comes back is used within seconds (the harness measures loss, not back-off).
 */
export function outputsFor(rsyslog: Rsyslog, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const outputs = devoOutputConfig(rsyslog) as Record<string, { type: string; config: Record<string, unknown> }>;
  Object.assign(outputs['devo_1']!.config, { connecting_initial_wait_in_seconds: 0.2, connecting_max_wait_in_seconds: 2, ...extra });
  return outputs;
}
