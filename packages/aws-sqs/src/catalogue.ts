import { VPC_V2_FIELDS } from './formats/vpc-flow.js';
import { UNKNOWN_TAG, type PipelineSpec, type RouteSpec, type ServiceDeclaration } from './pipeline.js';

/**
 * Devo's AWS S3-via-SQS service catalogue, one declaration a service, in Devo's own keys (the keys an
 * operator writes to override any part, README "Services"). Tables are those of Devo's current "General
 * setup" page; where the page gives a wildcard or no table, the README says which tag we chose.
 */

/** Keys CloudTrail writes next to its logs that hold no events (digests, Config's write check). */
const CLOUDTRAIL_SKIPPED = [[{ type: 'match', pattern: '(^|/)CloudTrail-Digest/' }], [{ type: 'match', pattern: 'ConfigWritabilityCheckFile' }]];

const CLOUDTRAIL: PipelineSpec = {
  file_format: { type: 'unseparated_json_processor', config: { key: 'Records', cloudwatch_message: 'json' } },
  routing_template: 'cloud.aws.cloudtrail.events',
  filename_filter_rules: CLOUDTRAIL_SKIPPED,
};

const VPC: PipelineSpec = {
  file_format: { type: 'text_file_processor', config: { header: true, field_names: [...VPC_V2_FIELDS], field_separator: ' ', use_json: true, cloudwatch_envelopes: true } },
  routing_template: 'cloud.aws.vpc.flow',
};

/** VPC flow logs delivered as Parquet (`.parquet` keys, with or without Hive-compatible prefixes). */
const VPC_PARQUET: RouteSpec = { name: 'parquet', key_pattern: '\\.parquet$', file_format: { type: 'parquet_processor' } };

const CONFIG: PipelineSpec = {
  file_format: { type: 'unseparated_json_processor', config: { key: 'configurationItems' } },
  routing_template: 'cloud.aws.configlogs.events',
  filename_filter_rules: [[{ type: 'match', pattern: 'ConfigWritabilityCheckFile' }]],
};

const json = (routing_template: string, config: Record<string, unknown> = {}): PipelineSpec => ({ file_format: { type: 'split_or_unseparated_processor', config }, routing_template });
const lines = (routing_template: string): PipelineSpec => ({ file_format: { type: 'line_split_processor' }, routing_template });
const accessLogs = (routing_template: string): PipelineSpec => ({ file_format: { type: 'aws_access_logs_processor' }, routing_template });
const cloudwatch = (routing_template: string, cloudwatch_message: 'raw' | 'json'): PipelineSpec => ({ file_format: { type: 'cloudwatch_logs_processor', config: { cloudwatch_message } }, routing_template });

/** `<log type>/...` keys: the first level names the log type (Devo's own template example). */
const FIRST_LEVEL_LOG_TYPE = { log_type: [{ operator: 'split', on: '/', element: 0 }, { operator: 'replace', to_replace: '_', replace_with: '' }] };

export const CATALOGUE: Record<string, ServiceDeclaration> = {
  aws_sqs_cloudtrail: { ...CLOUDTRAIL, formats: 'CloudTrail log files `{"Records":[...]}`; CloudTrail through CloudWatch Logs → Firehose' },
  aws_sqs_cloudtrail_kinesis: {
    formats: 'CloudTrail through Kinesis Data Firehose: CloudWatch Logs subscription documents (each message a CloudTrail record) or EventBridge events (`detail` is the record), concatenated',
    file_format: { type: 'unseparated_json_processor', config: { key: 'Records', cloudwatch_message: 'json', eventbridge_detail: true } },
    routing_template: 'cloud.aws.cloudtrail.events',
    filename_filter_rules: CLOUDTRAIL_SKIPPED,
  },
  aws_sqs_vpc: { ...VPC, formats: 'VPC flow logs v2–v8 (text with a header line; any custom field set), Parquet (`.parquet` keys), or the rows in CloudWatch Logs documents', routes: [VPC_PARQUET] },
  aws_sqs_cloudwatch_vpc: { ...VPC, formats: 'VPC flow logs sent to CloudWatch Logs and delivered by Firehose (`logEvents[].message` is a flow record, version 2 fields unless `field_names`); plain text flow logs too', routes: [VPC_PARQUET] },
  aws_sqs_cloudwatch: { ...cloudwatch('cloud.aws.cloudwatch.logs', 'raw'), formats: 'CloudWatch Logs subscription documents delivered by Firehose: one event per log event with `owner`, `logGroup`, `logStream`' },
  aws_sqs_config: { ...CONFIG, formats: 'AWS Config history and snapshot files `{"fileVersion":...,"configurationItems":[...]}`' },
  aws_sqs_elb: { ...accessLogs('web.aws.elb.access'), formats: 'Classic, Application (incl. connection logs) and Network (TLS) Load Balancer access logs' },
  aws_sqs_alb: { ...accessLogs('web.aws.alb.access'), formats: 'Application Load Balancer access logs (all fields to `request_transform_status`) and connection logs' },
  aws_sqs_s3_access: { ...accessLogs('web.aws.s3.access'), formats: 'S3 server access logs' },
  aws_sqs_waf: { ...json('cloud.aws.waf.logs', { cloudwatch_message: 'json' }), formats: 'AWS WAF logs (JSON Lines, or concatenated through Firehose)' },
  aws_sqs_route53: { ...json('dns.aws.route53', { cloudwatch_message: 'json' }), formats: 'Route 53 Resolver query logs (JSON Lines); query logs through CloudWatch Logs → Firehose' },
  aws_sqs_guard_duty: { file_format: { type: 'guardduty_processor' }, routing_template: 'cloud.aws.guardduty.findings', formats: 'GuardDuty findings exported to S3 (JSON Lines)' },
  aws_sqs_guard_duty_kinesis: { file_format: { type: 'guardduty_processor' }, routing_template: 'cloud.aws.guardduty.findings', formats: 'GuardDuty findings as EventBridge events through Firehose' },
  aws_sqs_rds: { ...cloudwatch('cloud.aws.rds.audit.<SQS_REGION>.<SQS_ACCID>', 'raw'), formats: 'RDS audit logs (MariaDB/MySQL audit plugin, …) published to CloudWatch Logs and delivered by Firehose' },
  aws_sqs_control_tower: {
    formats: 'A Control Tower / log-archive bucket: CloudTrail, Config, VPC flow logs (text or Parquet) and CloudFront logs, each routed by its key; other objects go to `my.app.sqs.unknown`',
    ...lines(UNKNOWN_TAG),
    filename_filter_rules: CLOUDTRAIL_SKIPPED,
    routes: [
      { name: 'cloudtrail', key_pattern: '(^|/)CloudTrail(-Insight)?/|_CloudTrail_', ...CLOUDTRAIL },
      { name: 'config', key_pattern: '(^|/)Config/|_Config_', ...CONFIG },
      { ...VPC_PARQUET, name: 'vpcflowlogs_parquet', key_pattern: '(^|/)vpcflowlogs/.*\\.parquet$', routing_template: 'cloud.aws.vpc.flow' },
      { name: 'vpcflowlogs', key_pattern: '(^|/)vpcflowlogs/|_vpcflowlogs_', ...VPC },
      { name: 'cloudfront', key_pattern: '(^|/)[A-Z0-9]{10,16}\\.\\d{4}-\\d\\d-\\d\\d-\\d\\d\\.[0-9a-f]+(\\.gz)?$', file_format: { type: 'bluecoat_processor', config: { field_separator: '\t' } }, routing_template: 'web.aws.cloudfront.access' },
    ],
  },
  // Third parties writing to S3.
  aws_sqs_fdr: { ...json('edr.crowdstrike.cannon'), formats: 'CrowdStrike Falcon Data Replicator (JSON Lines, gzip)' },
  aws_sqs_incapsula: {
    ...lines('cef0.imperva.incapsula'),
    // Incapsula's file header (`accountId:...` up to the `|==|` line) is not an event.
    line_filter_rules: [[{ source: 'line', type: 'regex', pattern: '^(accountId|configId|checkSum|format|startTime|endTime):' }], [{ source: 'line', type: 'equals', value: '|==|' }]],
    formats: 'Imperva Incapsula SIEM log files (CEF lines after the file header; uncompressed or gzip)',
  },
  aws_sqs_cisco_umbrella: {
    ...lines('sig.cisco.umbrella.dns'),
    filename_filter_rules: [[{ type: 'no_match', pattern: '(^|/)dnslogs/' }]],
    formats: 'Cisco Umbrella DNS logs (`dnslogs/` CSV lines; other log types in the bucket are filtered out)',
  },
  aws_sqs_cloudflare_logpush: { ...json('cloud.cloudflare.logpush.http'), formats: 'Cloudflare Logpush HTTP requests (JSON Lines, gzip)' },
  aws_sqs_cloudflare_audit: { ...json('cloud.aws.cloudflare.audit'), formats: 'Cloudflare audit logs through Logpush (JSON Lines, gzip)' },
  aws_sqs_palo_alto: { ...lines('firewall.paloalto.[file-log_type]'), file_field_definitions: FIRST_LEVEL_LOG_TYPE, formats: 'Palo Alto Networks logs (CSV lines) under `<log_type>/...` keys' },
  aws_sqs_lacework: { ...json('monitor.lacework.[file-log_type]'), file_field_definitions: FIRST_LEVEL_LOG_TYPE, formats: 'Lacework exports (JSON) under `<log_type>/...` keys' },
  aws_sqs_s1_funnel: { ...json('edr.sentinelone.dv'), formats: 'SentinelOne Deep Visibility data funnel (JSON Lines)' },
  aws_sqs_os: {
    ...lines('box.[file-log_type].[file-log_subtype].us'),
    file_field_definitions: { log_type: [{ operator: 'split', on: '/', element: 0 }], log_subtype: [{ operator: 'split', on: '/', element: 1 }] },
    formats: 'Operating system logs under `<log_type>/<log_subtype>/...` keys (one event per line)',
  },
  aws_sqs_jamf: { file_format: { type: 'jamf_processor' }, routing_template: 'app.jamf.protect.events', formats: 'Jamf Protect events (JSON Lines or concatenated JSON)' },
  aws_sqs_kubernetes: { ...cloudwatch('cloud.aws.eks.logs', 'json'), formats: 'EKS control plane logs (CloudWatch Logs → Firehose; JSON messages such as audit events become the record)' },
  // Ours, shipped before Devo's catalogue: kept under their names.
  aws_sqs_json: {
    ...json('cloud.aws.sqs.json', { key: 'Records', cloudwatch_message: 'raw' }),
    formats: 'Any JSON: NDJSON, one document, arrays, concatenated documents; `Records` arrays and CloudWatch Logs `logEvents` are split',
  },
  aws_sqs_text: { ...lines('cloud.aws.sqs.text'), formats: 'Any text: one event per line' },
  custom_service: { ...json('my.app.sqs.custom'), formats: 'Whatever its keys say: every part is the operator\'s (`file_format`, `routing_template`, …)' },
};
