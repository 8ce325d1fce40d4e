/**
 * One object per catalogue service, in its real format: field layouts and shapes as AWS's and the vendors'
 * public documentation give them (values made up). `expect` lists the events that must arrive, in order,
 * each matched as a subset; `tag` is the Devo table they must arrive in.
 */
export interface Sample {
  service: string;
  key: string;
  body: string;
  gzip?: boolean;
  tag: string;
  expect: Record<string, unknown>[];
  /** Another object of the same bucket that the service must not send (digests, other log types). */
  skipped?: { key: string; body: string };
}

const ACCOUNT = '111122223333';
const line = (...parts: string[]) => parts.join(' ');

const cloudTrailRecord = (eventID: string, eventName: string) => ({
  eventVersion: '1.09',
  userIdentity: { type: 'AssumedRole', principalId: 'AROAEXAMPLE:alice', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`, accountId: ACCOUNT, accessKeyId: 'ASIAEXAMPLE' },
  eventTime: '2024-05-01T12:00:00Z',
  eventSource: 'ec2.amazonaws.com',
  eventName,
  awsRegion: 'us-east-1',
  sourceIPAddress: '198.51.100.7',
  userAgent: 'aws-cli/2.15.0',
  requestParameters: { instancesSet: { items: [{ instanceId: 'i-0123456789abcdef0' }] } },
  responseElements: null,
  requestID: 'b2a5c1f0-example',
  eventID,
  readOnly: false,
  eventType: 'AwsApiCall',
  managementEvent: true,
  recipientAccountId: ACCOUNT,
  eventCategory: 'Management',
});

/** A CloudWatch Logs subscription document as Firehose writes it to S3 (documents are concatenated). */
export const cloudWatchDocument = (logGroup: string, messages: string[], type = 'DATA_MESSAGE') =>
  JSON.stringify({
    messageType: type,
    owner: ACCOUNT,
    logGroup,
    logStream: 'stream-1',
    subscriptionFilters: ['to-firehose'],
    logEvents: messages.map((message, i) => ({ id: `3719574393${i}0000000000000000000000000000000000000000000`, timestamp: 1714564800000 + i, message })),
  });

export const VPC_V2_HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
/** Every field of flow log versions 2 to 8, in the order AWS documents them. */
export const VPC_V8_HEADER = [
  VPC_V2_HEADER,
  'vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr',
  'region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path',
  'ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id ecs-second-container-id ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id',
  'reject-reason',
].join(' ');

export const ALB_LINE = line(
  'https 2025-05-01T12:00:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57',
  '"GET https://www.example.com:443/old/path?x=1 HTTP/1.1" "curl/8.5.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2',
  `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com"`,
  `"arn:aws:acm:us-east-1:${ACCOUNT}:certificate/12345678-1234-1234-1234-123456789012" 1 2025-05-01T12:00:00.100000Z "forward" "-" "-"`,
  '"10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90 "internal.example.com" "/new/path?x=1" "TransformSucceeded"',
);
export const ALB_CONNECTION_LINE = line(
  '2025-05-01T12:00:00.178146Z 192.0.2.1 45679 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 4',
  '"CN=client.example.com,O=Example Corp,C=US" NotBefore=2025-01-01T00:00:00Z;NotAfter=2026-01-01T00:00:00Z 1A2B3C4D5E6F7081 Success TID_1234abcd5678ef90',
);
export const CLASSIC_ELB_LINE =
  '2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -';
export const NLB_LINE = line(
  'tls 2.0 2024-05-01T12:00:00 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 72.21.218.154:51341 172.100.100.185:443 5 2 98 246 -',
  `arn:aws:acm:us-east-1:${ACCOUNT}:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99 - ECDHE-RSA-AES128-SHA tlsv12 - my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-1.amazonaws.com h2 h2 "h2","http/1.1" 2024-05-01T11:59:59`,
);
export const S3_ACCESS_LINE = line(
  '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3',
  '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /amzn-s3-demo-bucket1?versioning HTTP/1.1"',
  '200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader',
  `amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:us-west-1:${ACCOUNT}:accesspoint/example-AP Yes`,
);

const guardDutyFinding = (id: string) => ({
  schemaVersion: '2.0',
  accountId: ACCOUNT,
  region: 'us-east-1',
  partition: 'aws',
  id,
  arn: `arn:aws:guardduty:us-east-1:${ACCOUNT}:detector/12abc34d567e8fa901bc2d34e56789f0/finding/${id}`,
  type: 'Recon:EC2/PortProbeUnprotectedPort',
  resource: { resourceType: 'Instance', instanceDetails: { instanceId: 'i-99999999', instanceType: 'm3.xlarge' } },
  service: { serviceName: 'guardduty', detectorId: '12abc34d567e8fa901bc2d34e56789f0', action: { actionType: 'PORT_PROBE' }, count: 3, archived: false },
  severity: 2,
  createdAt: '2024-05-01T12:00:00.000Z',
  updatedAt: '2024-05-01T12:05:00.000Z',
  title: 'Unprotected port on EC2 instance i-99999999 is being probed.',
  description: 'EC2 instance has an unprotected port which is being probed by a known malicious host.',
});

const configItem = (resourceId: string) => ({
  configurationItemVersion: '1.3',
  configurationItemCaptureTime: '2024-05-01T12:00:00.000Z',
  configurationStateId: 1714564800000,
  awsAccountId: ACCOUNT,
  configurationItemStatus: 'ResourceDiscovered',
  resourceType: 'AWS::EC2::SecurityGroup',
  resourceId,
  resourceName: 'web',
  ARN: `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/${resourceId}`,
  awsRegion: 'us-east-1',
  availabilityZone: 'Not Applicable',
  configuration: { groupName: 'web', ipPermissions: [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, ipRanges: ['0.0.0.0/0'] }] },
  supplementaryConfiguration: {},
  tags: { env: 'prod' },
  relationships: [],
});

const ndjson = (records: object[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;

export const CLOUDTRAIL_KEY = `AWSLogs/${ACCOUNT}/CloudTrail/us-east-1/2024/05/01/${ACCOUNT}_CloudTrail_us-east-1_20240501T1200Z_abc.json.gz`;
export const cloudTrailBody = (ids: string[]) => JSON.stringify({ Records: ids.map((id) => cloudTrailRecord(id, 'RunInstances')) });
export const CONFIG_KEY = `AWSLogs/${ACCOUNT}/Config/us-east-1/2024/5/1/ConfigHistory/${ACCOUNT}_Config_us-east-1_ConfigHistory_AWS::EC2::SecurityGroup_20240501T120000Z_20240501T130000Z_1.json.gz`;
export const configBody = (ids: string[]) => JSON.stringify({ fileVersion: '1.0', configurationItems: ids.map(configItem) });
export const VPC_KEY = `AWSLogs/${ACCOUNT}/vpcflowlogs/us-east-1/2024/05/01/${ACCOUNT}_vpcflowlogs_us-east-1_fl-1234abcd_20240501T1200Z_hash.log.gz`;

export const SAMPLES: Sample[] = [
  {
    service: 'aws_sqs_cloudtrail',
    key: CLOUDTRAIL_KEY,
    body: cloudTrailBody(['ct-1', 'ct-2']),
    tag: 'cloud.aws.cloudtrail.events',
    expect: [{ eventID: 'ct-1', eventName: 'RunInstances', eventCategory: 'Management' }, { eventID: 'ct-2' }],
    skipped: { key: `AWSLogs/${ACCOUNT}/CloudTrail-Digest/us-east-1/2024/05/01/${ACCOUNT}_CloudTrail-Digest_us-east-1_trail_us-east-1_20240501T130000Z.json.gz`, body: JSON.stringify({ awsAccountId: ACCOUNT, digestStartTime: '2024-05-01T12:00:00Z', logFiles: [] }) },
  },
  {
    service: 'aws_sqs_cloudtrail_kinesis',
    key: 'firehose/cloudtrail/2024/05/01/12/cloudtrail-stream-1-2024-05-01-12-00-00-uuid.gz',
    body:
      cloudWatchDocument('aws-cloudtrail-logs', [JSON.stringify(cloudTrailRecord('ctk-1', 'ConsoleLogin'))]) +
      cloudWatchDocument('aws-cloudtrail-logs', [], 'CONTROL_MESSAGE') +
      JSON.stringify({ version: '0', id: 'eb-1', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.ec2', account: ACCOUNT, time: '2024-05-01T12:00:00Z', region: 'us-east-1', resources: [], detail: cloudTrailRecord('ctk-2', 'StopInstances') }),
    tag: 'cloud.aws.cloudtrail.events',
    expect: [{ eventID: 'ctk-1', eventName: 'ConsoleLogin' }, { eventID: 'ctk-2', eventName: 'StopInstances' }],
  },
  {
    service: 'aws_sqs_vpc',
    key: VPC_KEY,
    body: `${VPC_V8_HEADER}\n${line(
      '8', ACCOUNT, 'eni-1235b8ca123456789', '10.0.1.5', '10.0.0.220', '39812', '80', '6', '3', '180', '1714564800', '1714564860', 'REJECT', 'OK',
      'vpc-0a1b2c3d', 'subnet-0a1b2c3d', 'i-0123456789abcdef0', '2', 'IPv4', '10.0.1.5', '10.0.0.220',
      'us-east-1', 'use1-az1', '-', '-', '-', '-', 'ingress', '-',
      '-', '-', '-', '-', '-', '-', '-', '-', '-', '-',
      '1',
    )}\n`,
    tag: 'cloud.aws.vpc.flow',
    expect: [{ version: '8', 'interface-id': 'eni-1235b8ca123456789', action: 'REJECT', 'flow-direction': 'ingress', 'az-id': 'use1-az1', 'ecs-task-id': '-', 'reject-reason': '1' }],
  },
  {
    service: 'aws_sqs_cloudwatch_vpc',
    key: 'firehose/vpc/2024/05/01/12/vpc-stream-1-2024-05-01-12-00-00-uuid.gz',
    body: cloudWatchDocument('vpc-flow-logs', [line('2', ACCOUNT, 'eni-0f0f0f0f0f0f0f0f0', '172.31.16.139', '172.31.16.21', '20641', '22', '6', '20', '4249', '1714564800', '1714564860', 'ACCEPT', 'OK')]),
    tag: 'cloud.aws.vpc.flow',
    expect: [{ version: '2', 'interface-id': 'eni-0f0f0f0f0f0f0f0f0', dstport: '22', action: 'ACCEPT' }],
  },
  {
    service: 'aws_sqs_cloudwatch',
    key: 'firehose/app/2024/05/01/12/app-stream-1-2024-05-01-12-00-00-uuid.gz',
    body: cloudWatchDocument('/app/web', [], 'CONTROL_MESSAGE') + cloudWatchDocument('/app/web', ['GET /health 200', 'POST /login 401']),
    tag: 'cloud.aws.cloudwatch.logs',
    expect: [
      { message: 'GET /health 200', logGroup: '/app/web', logStream: 'stream-1', owner: ACCOUNT },
      { message: 'POST /login 401', logGroup: '/app/web' },
    ],
  },
  {
    service: 'aws_sqs_config',
    key: CONFIG_KEY,
    body: configBody(['sg-0001', 'sg-0002']),
    tag: 'cloud.aws.configlogs.events',
    expect: [{ resourceId: 'sg-0001', resourceType: 'AWS::EC2::SecurityGroup', configurationItemStatus: 'ResourceDiscovered' }, { resourceId: 'sg-0002' }],
    skipped: { key: `AWSLogs/${ACCOUNT}/Config/ConfigWritabilityCheckFile`, body: '' },
  },
  {
    service: 'aws_sqs_elb',
    key: `AWSLogs/${ACCOUNT}/elasticloadbalancing/us-east-1/2024/05/01/${ACCOUNT}_elasticloadbalancing_us-east-1_my-loadbalancer_20240501T1200Z_192.0.2.1_abc.log`,
    body: `${CLASSIC_ELB_LINE}\n${NLB_LINE}\n`,
    gzip: false,
    tag: 'web.aws.elb.access',
    expect: [
      { time: '2015-05-13T23:39:43.945958Z', elb: 'my-loadbalancer', 'backend:port': '10.0.0.1:80', request: 'GET http://www.example.com:80/ HTTP/1.1', user_agent: 'curl/7.38.0' },
      { type: 'tls', version: '2.0', listener: 'g3d4b5e8bb8464cd', tls_protocol_version: 'tlsv12', alpn_fe_protocol: 'h2', alpn_client_preference_list: '"h2","http/1.1"', tls_connection_creation_time: '2024-05-01T11:59:59' },
    ],
  },
  {
    service: 'aws_sqs_alb',
    key: `AWSLogs/${ACCOUNT}/elasticloadbalancing/us-east-1/2025/05/01/${ACCOUNT}_elasticloadbalancing_us-east-1_app.my-loadbalancer.50dc6c495c0c9188_20250501T1200Z_192.0.2.1_abc.log.gz`,
    body: `${ALB_LINE}\n${ALB_CONNECTION_LINE}\n`,
    tag: 'web.aws.alb.access',
    expect: [
      {
        type: 'https',
        elb: 'app/my-loadbalancer/50dc6c495c0c9188',
        request: 'GET https://www.example.com:443/old/path?x=1 HTTP/1.1',
        trace_id: 'Root=1-58337281-1d84f3d73c47ec4e58577259',
        actions_executed: 'forward',
        classification_reason: '-',
        conn_trace_id: 'TID_1234abcd5678ef90',
        transformed_host: 'internal.example.com',
        transformed_uri: '/new/path?x=1',
        request_transform_status: 'TransformSucceeded',
      },
      { timestamp: '2025-05-01T12:00:00.178146Z', client_ip: '192.0.2.1', client_port: '45679', listener_port: '443', tls_protocol: 'TLSv1.2', leaf_client_cert_subject: 'CN=client.example.com,O=Example Corp,C=US', tls_verify_status: 'Success', conn_trace_id: 'TID_1234abcd5678ef90' },
    ],
  },
  {
    service: 'aws_sqs_s3_access',
    key: 'access-logs/2019-02-06-00-00-38-5F7D6EXAMPLE',
    body: `${S3_ACCESS_LINE}\n`,
    gzip: false,
    tag: 'web.aws.s3.access',
    expect: [{ bucket: 'amzn-s3-demo-bucket1', time: '06/Feb/2019:00:00:38 +0000', remote_ip: '192.0.2.3', operation: 'REST.GET.VERSIONING', key: '-', request_uri: 'GET /amzn-s3-demo-bucket1?versioning HTTP/1.1', http_status: '200', user_agent: 'S3Console/0.4', tls_version: 'TLSV1.2', acl_required: 'Yes' }],
  },
  {
    service: 'aws_sqs_waf',
    key: `AWSLogs/${ACCOUNT}/WAFLogs/us-east-1/my-web-acl/2024/05/01/12/00/${ACCOUNT}_waflogs_us-east-1_my-web-acl_20240501T1200Z_abc.log.gz`,
    body: ndjson([
      {
        timestamp: 1714564800000,
        formatVersion: 1,
        webaclId: `arn:aws:wafv2:us-east-1:${ACCOUNT}:regional/webacl/my-web-acl/1EXAMPLE-2ARN-3ARN-4ARN-123456EXAMPLE`,
        terminatingRuleId: 'SQLi_XSS',
        terminatingRuleType: 'REGULAR',
        action: 'BLOCK',
        terminatingRuleMatchDetails: [{ conditionType: 'SQL_INJECTION', location: 'UNKNOWN', matchedData: ['10', 'AND', '1'] }],
        httpSourceName: 'ALB',
        httpSourceId: `${ACCOUNT}-app/my-loadbalancer/50dc6c495c0c9188`,
        ruleGroupList: [],
        rateBasedRuleList: [],
        nonTerminatingMatchingRules: [],
        requestHeadersInserted: null,
        responseCodeSent: null,
        httpRequest: { clientIp: '198.51.100.9', country: 'AU', headers: [{ name: 'Host', value: 'www.example.com' }], uri: '/search', args: 'q=1%20AND%201', httpVersion: 'HTTP/1.1', httpMethod: 'GET', requestId: '1-66322a40-example' },
      },
    ]),
    tag: 'cloud.aws.waf.logs',
    expect: [{ action: 'BLOCK', terminatingRuleId: 'SQLi_XSS', httpRequest: { clientIp: '198.51.100.9', uri: '/search' } }],
  },
  {
    service: 'aws_sqs_route53',
    key: `AWSLogs/${ACCOUNT}/vpcdnsquerylogs/vpc-0a1b2c3d/2024/05/01/vpc-0a1b2c3d_vpcdnsquerylogs_${ACCOUNT}_20240501T1200Z_abc.log.gz`,
    body: ndjson([
      {
        version: '1.100000',
        account_id: ACCOUNT,
        region: 'us-east-1',
        vpc_id: 'vpc-0a1b2c3d',
        query_timestamp: '2024-05-01T12:00:00Z',
        query_name: 'example.com.',
        query_type: 'A',
        query_class: 'IN',
        rcode: 'NOERROR',
        answers: [{ Rdata: '93.184.216.34', Type: 'A', Class: 'IN' }],
        srcaddr: '10.0.1.5',
        srcport: '52014',
        transport: 'UDP',
        srcids: { instance: 'i-0123456789abcdef0' },
      },
    ]),
    tag: 'dns.aws.route53',
    expect: [{ query_name: 'example.com.', rcode: 'NOERROR', srcids: { instance: 'i-0123456789abcdef0' } }],
  },
  {
    service: 'aws_sqs_guard_duty',
    key: `AWSLogs/${ACCOUNT}/GuardDuty/us-east-1/2024/05/01/abc-findings.jsonl.gz`,
    body: ndjson([guardDutyFinding('gd-1'), guardDutyFinding('gd-2')]),
    tag: 'cloud.aws.guardduty.findings',
    expect: [{ id: 'gd-1', type: 'Recon:EC2/PortProbeUnprotectedPort', severity: 2 }, { id: 'gd-2' }],
  },
  {
    service: 'aws_sqs_guard_duty_kinesis',
    key: 'firehose/guardduty/2024/05/01/12/gd-stream-1-2024-05-01-12-00-00-uuid.gz',
    body: ['gdk-1', 'gdk-2']
      .map((id) => JSON.stringify({ version: '0', id: `evt-${id}`, 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', account: ACCOUNT, time: '2024-05-01T12:05:00Z', region: 'us-east-1', resources: [], detail: guardDutyFinding(id) }))
      .join(''),
    tag: 'cloud.aws.guardduty.findings',
    expect: [{ id: 'gdk-1', title: 'Unprotected port on EC2 instance i-99999999 is being probed.' }, { id: 'gdk-2' }],
  },
  {
    service: 'aws_sqs_rds',
    key: 'firehose/rds/2024/05/01/12/rds-stream-1-2024-05-01-12-00-00-uuid.gz',
    body: cloudWatchDocument('/aws/rds/instance/prod-db/audit', [
      "20240501 12:00:00,ip-10-0-0-12,admin,10.0.1.5,26,0,CONNECT,appdb,,0",
      "20240501 12:00:01,ip-10-0-0-12,admin,10.0.1.5,26,1204,QUERY,appdb,'SELECT * FROM users WHERE id=1',0",
    ]),
    tag: 'cloud.aws.rds.audit.us-east-1.123456789012',
    expect: [
      { message: '20240501 12:00:00,ip-10-0-0-12,admin,10.0.1.5,26,0,CONNECT,appdb,,0', logGroup: '/aws/rds/instance/prod-db/audit' },
      { message: "20240501 12:00:01,ip-10-0-0-12,admin,10.0.1.5,26,1204,QUERY,appdb,'SELECT * FROM users WHERE id=1',0" },
    ],
  },
  {
    service: 'aws_sqs_fdr',
    key: 'data/6b7a3f1e-0f5c-4c2b-9a51-abcdef012345/part-00000.gz',
    body: ndjson([
      { event_simpleName: 'ProcessRollup2', aid: 'a1b2c3d4e5f6', cid: 'c1d2', timestamp: '1714564800000', CommandLine: 'cmd.exe /c whoami', ImageFileName: '\\Device\\HarddiskVolume2\\Windows\\System32\\cmd.exe', id: 'fdr-1' },
      { event_simpleName: 'DnsRequest', aid: 'a1b2c3d4e5f6', cid: 'c1d2', timestamp: '1714564801000', DomainName: 'example.com', id: 'fdr-2' },
    ]),
    tag: 'edr.crowdstrike.cannon',
    expect: [{ id: 'fdr-1', event_simpleName: 'ProcessRollup2', CommandLine: 'cmd.exe /c whoami' }, { id: 'fdr-2', DomainName: 'example.com' }],
  },
  {
    service: 'aws_sqs_incapsula',
    key: 'incapsula/123456_1001.log',
    body: [
      'accountId:123456',
      'configId:654321',
      'checkSum:3b1d4c2a9f',
      'format:CEF',
      'startTime:1714564800000',
      'endTime:1714564860000',
      '|==|',
      'CEF:0|Incapsula|SIEMintegration|1|1|Normal|0| fileId=3412341160002518171 sourceServiceName=site.example.com siteid=1509732 suid=50005477 requestClientApplication=Mozilla/5.0 deviceFacility=mia cs2=true cs2Label=Javascript Support src=12.12.12.12 request=site.example.com/ requestMethod=GET cn1=200 app=HTTP',
      'CEF:0|Incapsula|SIEMintegration|1|1|Illegal Resource Access|3| fileId=3412341160002518172 sourceServiceName=site.example.com siteid=1509732 src=12.12.12.13 request=site.example.com/admin requestMethod=GET cn1=403 act=REQ_BLOCKED',
    ].join('\n'),
    gzip: false,
    tag: 'cef0.imperva.incapsula',
    expect: [{ line: 'CEF:0|Incapsula|SIEMintegration|1|1|Normal|0| fileId=3412341160002518171' }, { line: 'CEF:0|Incapsula|SIEMintegration|1|1|Illegal Resource Access|3|' }],
  },
  {
    service: 'aws_sqs_cisco_umbrella',
    key: 'dnslogs/2024-05-01/2024-05-01-12-00-a1b2.csv.gz',
    body: '"2024-05-01 12:00:00","jdoe@example.com","jdoe@example.com,HQ","10.10.1.100","24.123.132.133","Allowed","1 (A)","NOERROR","example.com.","Software/Technology","Roaming Computers","Roaming Computers",""\n',
    tag: 'sig.cisco.umbrella.dns',
    expect: [{ line: '"2024-05-01 12:00:00","jdoe@example.com"' }],
    skipped: { key: 'proxylogs/2024-05-01/2024-05-01-12-00-c3d4.csv.gz', body: '"2024-05-01 12:00:00","10.10.1.100","24.123.132.133","203.0.113.5","text/html","ALLOWED","http://example.com/"\n' },
  },
  {
    service: 'aws_sqs_cloudflare_logpush',
    key: 'cloudflare/http_requests/20240501/20240501T120000Z_20240501T120100Z_a1b2c3.log.gz',
    body: ndjson([{ ClientIP: '203.0.113.9', ClientRequestHost: 'www.example.com', ClientRequestMethod: 'GET', ClientRequestURI: '/', EdgeEndTimestamp: '2024-05-01T12:00:01Z', EdgeResponseStatus: 200, RayID: '7c1f3b2a9e0d1234' }]),
    tag: 'cloud.cloudflare.logpush.http',
    expect: [{ RayID: '7c1f3b2a9e0d1234', EdgeResponseStatus: 200 }],
  },
  {
    service: 'aws_sqs_cloudflare_audit',
    key: 'cloudflare/audit_logs/20240501/20240501T120000Z_20240501T130000Z_d4e5f6.log.gz',
    body: ndjson([{ ActionResult: true, ActionType: 'login', ActorEmail: 'admin@example.com', ActorIP: '203.0.113.1', ActorType: 'user', ID: 'b1d0e2c3-audit', OwnerID: 'acc-1', ResourceType: 'account', When: '2024-05-01T12:00:00Z' }]),
    tag: 'cloud.aws.cloudflare.audit',
    expect: [{ ID: 'b1d0e2c3-audit', ActionType: 'login' }],
  },
  {
    service: 'aws_sqs_palo_alto',
    key: 'traffic/2024/05/01/12/pa-traffic-0001.csv.gz',
    body: '1,2024/05/01 12:00:00,012345678901,TRAFFIC,end,2560,2024/05/01 12:00:00,10.0.0.5,8.8.8.8,203.0.113.4,8.8.8.8,allow-dns,,,dns,vsys1,trust,untrust,ethernet1/2,ethernet1/1,log-fwd,2024/05/01 12:00:00,12345,1,53012,53,41234,53,0x400064,udp,allow,180,80,100,2,2024/05/01 11:59:58,0,any,0,7012345,0x0,10.0.0.0-10.255.255.255,United States,0,1,1,aged-out\n',
    tag: 'firewall.paloalto.traffic',
    expect: [{ line: '1,2024/05/01 12:00:00,012345678901,TRAFFIC,end' }],
  },
  {
    service: 'aws_sqs_lacework',
    key: 'alerts/2024/05/01/lacework-alerts-0001.json',
    body: ndjson([{ EVENT_ID: 'lw-1', EVENT_TYPE: 'NewExternalServerIp', SEVERITY: '3', START_TIME: '2024-05-01T12:00:00Z', SUMMARY: 'New external server IP' }]),
    gzip: false,
    tag: 'monitor.lacework.alerts',
    expect: [{ EVENT_ID: 'lw-1', EVENT_TYPE: 'NewExternalServerIp' }],
  },
  {
    service: 'aws_sqs_s1_funnel',
    key: 'sentinelone/2024/05/01/12/dv-0001.jsonl.gz',
    body: ndjson([{ 'event.type': 'Process Creation', 'agent.uuid': '1a2b3c4d', 'src.process.cmdline': 'powershell -enc AAAA', 'event.time': 1714564800000, 'site.id': '9876' }]),
    tag: 'edr.sentinelone.dv',
    expect: [{ 'event.type': 'Process Creation', 'src.process.cmdline': 'powershell -enc AAAA' }],
  },
  {
    service: 'aws_sqs_os',
    key: 'linux/secure/2024/05/01/host-1.log.gz',
    body: 'May  1 12:00:00 ip-10-0-0-5 sshd[1234]: Accepted publickey for ec2-user from 198.51.100.7 port 50022 ssh2\n',
    tag: 'box.linux.secure.us',
    expect: [{ line: 'May  1 12:00:00 ip-10-0-0-5 sshd[1234]: Accepted publickey for ec2-user' }],
  },
  {
    service: 'aws_sqs_jamf',
    key: 'jamf/2024/05/01/protect-alerts-0001.json',
    body: ndjson([{ caid: 'jp-1', certid: 'cert-1', input: { eventType: 'GPProcessEvent', host: { hostname: 'mac-01', serial: 'C02XXXX' } }, match: { severity: 2, facts: [{ name: 'SuspiciousProcess' }] } }]),
    gzip: false,
    tag: 'app.jamf.protect.events',
    expect: [{ caid: 'jp-1', input: { eventType: 'GPProcessEvent' } }],
  },
  {
    service: 'aws_sqs_kubernetes',
    key: 'firehose/eks/2024/05/01/12/eks-stream-1-2024-05-01-12-00-00-uuid.gz',
    body: cloudWatchDocument('/aws/eks/prod/cluster', [
      JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: 'k8s-1', stage: 'ResponseComplete', requestURI: '/api/v1/namespaces/default/pods', verb: 'list', user: { username: 'system:serviceaccount:kube-system:default' } }),
    ]),
    tag: 'cloud.aws.eks.logs',
    expect: [{ auditID: 'k8s-1', verb: 'list', kind: 'Event' }],
  },
];

/** A `custom_service` as Devo's template writes it (a line-split JSON processor, key filters, a routed tag). */
export const CUSTOM_SERVICE = {
  file_format: { type: 'line_split_processor', config: { json: true } },
  routing_template: 'my.app.[file-log_type]',
  file_field_definitions: { log_type: [{ operator: 'split', on: '/', element: 0 }, { operator: 'replace', to_replace: '_', replace_with: '' }] },
  filename_filter_rules: [[{ type: 'match', pattern: 'CloudTrail-Digest' }], [{ type: 'match', pattern: 'ConfigWritabilityCheckFile' }]],
  line_filter_rules: [[{ source: 'record', key: 'event_simpleName', type: 'match', value: 'EndOfProcess' }]],
  record_field_mapping: { event_simpleName: { keys: ['event_simpleName'] } },
  encoding: 'gzip',
  send_filtered_out_to_unknown: false,
};
