import { fieldPrefixes, jsonString } from './serialize.js';

/** Application Load Balancer access log fields, in order; AWS appends new ones at the end. */
export const ALB_FIELDS = [
  'type', 'time', 'elb', 'client:port', 'target:port', 'request_processing_time', 'target_processing_time', 'response_processing_time',
  'elb_status_code', 'target_status_code', 'received_bytes', 'sent_bytes', 'request', 'user_agent', 'ssl_cipher', 'ssl_protocol',
  'target_group_arn', 'trace_id', 'domain_name', 'chosen_cert_arn', 'matched_rule_priority', 'request_creation_time', 'actions_executed',
  'redirect_url', 'error_reason', 'target:port_list', 'target_status_code_list', 'classification', 'classification_reason', 'conn_trace_id',
  // Added in 2025 with URL and host header rewrite.
  'transformed_host', 'transformed_uri', 'request_transform_status',
] as const;

/** Application Load Balancer connection log fields (`conn_log.` files): the line starts with the time, then the client IP. */
export const ALB_CONNECTION_FIELDS = [
  'timestamp', 'client_ip', 'client_port', 'listener_port', 'tls_protocol', 'tls_cipher', 'tls_handshake_latency', 'leaf_client_cert_subject',
  'leaf_client_cert_validity', 'leaf_client_cert_serial_number', 'tls_verify_status', 'conn_trace_id',
] as const;

/** S3 server access log fields (the line starts with the bucket owner's canonical id; the time is in brackets). */
export const S3_ACCESS_FIELDS = [
  'bucket_owner', 'bucket', 'time', 'remote_ip', 'requester', 'request_id', 'operation', 'key', 'request_uri', 'http_status', 'error_code',
  'bytes_sent', 'object_size', 'total_time', 'turn_around_time', 'referer', 'user_agent', 'version_id', 'host_id', 'signature_version',
  'cipher_suite', 'authentication_type', 'host_header', 'tls_version', 'access_point_arn', 'acl_required', 'source_region',
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
const CONNECTION_PREFIXES = fieldPrefixes(ALB_CONNECTION_FIELDS);
const S3_PREFIXES = fieldPrefixes(S3_ACCESS_FIELDS);

const ISO_TIME = /^\d{4}-\d\d-\d\dT/;
const CANONICAL_ID = /^[0-9a-f]{64}$/;

/** Which access log a line belongs to, from its first values (each format's documented layout). */
function prefixesFor(values: readonly string[], bracketed: boolean): string[] {
  const first = values[0]!;
  if (ISO_TIME.test(first)) return values[1]?.includes(':') === false && /^\d+$/.test(values[2] ?? '') ? CONNECTION_PREFIXES : CLASSIC_PREFIXES;
  if (first === 'tls' && /^\d+\.\d+$/.test(values[1] ?? '')) return NLB_PREFIXES;
  if (bracketed && (CANONICAL_ID.test(first) || first === '-')) return S3_PREFIXES;
  return ALB_PREFIXES;
}

/** `[...]` followed by a space or the end (S3's `[06/Feb/2019:00:00:38 +0000]`), not an IPv6 `[::1]:443`. */
function isBracketed(line: string, i: number): boolean {
  const j = line.indexOf(']', i);
  return j !== -1 && (j + 1 === line.length || line.charCodeAt(j + 1) === 32);
}

/**
 * Splits on spaces; "quoted values" may hold spaces and backslash-escaped quotes, and lose their quotes;
 * `[bracketed]` values (S3's time) keep their spaces and lose their brackets.
 */
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
      if (j + 1 < n && line.charCodeAt(j + 1) !== 32) {
        // Not a quoted value but a token with quotes in it (NLB's `"h2","http/1.1"`): kept as written.
        let k = line.indexOf(' ', j);
        if (k === -1) k = n;
        values.push(line.slice(i, k));
        i = k;
        continue;
      }
      values.push(value + line.slice(start, j));
      i = j + 1;
    } else if (line.charCodeAt(i) === 91 /* [ */ && isBracketed(line, i)) {
      const j = line.indexOf(']', i);
      values.push(line.slice(i + 1, j));
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

/**
 * An access log line (ALB, ALB connection log, Classic ELB, NLB TLS, S3 server access) as a JSON object
 * with the format's field names (values as strings); fields AWS adds later are kept as `field_<n>`.
 */
export function buildElbRecord(line: string, suffix: string): string {
  const values = splitLogLine(line);
  if (values.length === 0) return `{${suffix}}`;
  const prefixes = prefixesFor(values, line.indexOf('[') !== -1);
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const prefix = i < prefixes.length ? prefixes[i]! : `,"field_${i + 1}":`;
    out += prefix + jsonString(values[i]!);
  }
  return `${out},${suffix}}`;
}
