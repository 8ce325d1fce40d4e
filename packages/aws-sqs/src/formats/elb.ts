import { fieldPrefixes, jsonString } from './serialize.js';

/** Application Load Balancer access log fields, in order; AWS appends new ones at the end. */
export const ALB_FIELDS = [
  'type', 'time', 'elb', 'client:port', 'target:port', 'request_processing_time', 'target_processing_time', 'response_processing_time',
  'elb_status_code', 'target_status_code', 'received_bytes', 'sent_bytes', 'request', 'user_agent', 'ssl_cipher', 'ssl_protocol',
  'target_group_arn', 'trace_id', 'domain_name', 'chosen_cert_arn', 'matched_rule_priority', 'request_creation_time', 'actions_executed',
  'redirect_url', 'error_reason', 'target:port_list', 'target_status_code_list', 'classification', 'classification_reason', 'conn_trace_id',
] as const;

/** Classic Load Balancer access log fields (the line starts with the time). */
export const CLASSIC_ELB_FIELDS = [
  'time', 'elb', 'client:port', 'backend:port', 'request_processing_time', 'backend_processing_time', 'response_processing_time',
  'elb_status_code', 'backend_status_code', 'received_bytes', 'sent_bytes', 'request', 'user_agent', 'ssl_cipher', 'ssl_protocol',
] as const;

/** Network Load Balancer (TLS listener) access log fields (`tls 2.0 ...`). */
export const NLB_FIELDS = [
  'type', 'version', 'time', 'elb', 'listener', 'client:port', 'destination:port', 'connection_time', 'tls_handshake_time', 'received_bytes',
  'sent_bytes', 'incoming_tls_alert', 'chosen_cert_arn', 'chosen_cert_serial', 'tls_cipher', 'tls_protocol_version', 'tls_named_group',
  'domain_name', 'alpn_fe_protocol', 'alpn_be_protocol', 'alpn_client_preference_list', 'tls_connection_creation_time',
] as const;

const ALB_PREFIXES = fieldPrefixes(ALB_FIELDS);
const CLASSIC_PREFIXES = fieldPrefixes(CLASSIC_ELB_FIELDS);
const NLB_PREFIXES = fieldPrefixes(NLB_FIELDS);

/** Splits on spaces; "quoted values" may hold spaces and backslash-escaped quotes, and lose their quotes. */
export function splitLogLine(line: string): string[] {
  const values: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && line.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    if (line.charCodeAt(i) === 34) {
      let value = '';
      let j = i + 1;
      let start = j;
      while (j < n) {
        const c = line.charCodeAt(j);
        if (c === 92 && j + 1 < n) {
          value += line.slice(start, j) + line[j + 1];
          j += 2;
          start = j;
          continue;
        }
        if (c === 34) break;
        j++;
      }
      values.push(value + line.slice(start, j));
      i = j + 1;
    } else {
      let j = line.indexOf(' ', i);
      if (j === -1) j = n;
      values.push(line.slice(i, j));
      i = j;
    }
  }
  return values;
}

/** An ELB/ALB/NLB access log line as a JSON object with the format's field names (values as strings). */
export function buildElbRecord(line: string, suffix: string): string {
  const values = splitLogLine(line);
  if (values.length === 0) return `{${suffix}}`;
  const first = values[0]!;
  const prefixes = /^\d{4}-\d\d-\d\dT/.test(first) ? CLASSIC_PREFIXES : first === 'tls' && /^\d+\.\d+$/.test(values[1] ?? '') ? NLB_PREFIXES : ALB_PREFIXES;
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const prefix = i < prefixes.length ? prefixes[i]! : `,"field_${i + 1}":`;
    out += prefix + jsonString(values[i]!);
  }
  return `${out},${suffix}}`;
}
