import { seededRandom } from '../seeded-random.js';
/**
 * Deterministic Exchange Online message trace rows. One message fans out to one row per recipient: the rows
 * share the message trace id (RWS `MessageTraceId`, Graph `id`), `MessageId`, sender, subject and time and
 * differ by recipient and status, which is exactly what a careless dedup key merges.
 */
export interface O365TraceRow {
  /** RWS `MessageTraceId` and Graph `id`: shared by every recipient of one message. */
  messageTraceId: string;
  messageId: string;
  organization: string;
  sender: string;
  recipient: string;
  subject: string;
  /** Epoch ms the message was received. */
  received: number;
  /** Epoch ms from which the trace API returns the row (message trace data arrives up to 24 h late). */
  visibleAt: number;
  status: O365TraceStatus;
  size: number;
  fromIP: string;
  toIP: string;
}

export type O365TraceStatus = 'Delivered' | 'Failed' | 'Pending' | 'Expanded' | 'Quarantined' | 'FilteredAsSpam' | 'GettingStatus' | 'Recalled';

const STATUSES: O365TraceStatus[] = ['Delivered', 'Delivered', 'Delivered', 'Delivered', 'Failed', 'Expanded', 'Quarantined', 'FilteredAsSpam', 'Pending'];
const SUBJECTS = ['Monthly report', 'Invoice 4411', 'PIM: role activated', 'Re: lunch', 'Quarterly numbers', 'Your parcel', 'Security alert', 'Fwd: contract'];


const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A random 32-bit value as 8 hex digits (lookup table: this runs for every row of 100k-message data sets). */
function hex8(rand: () => number): string {
  const v = (rand() * 0x100000000) >>> 0;
  return HEX[v >>> 24]! + HEX[(v >>> 16) & 255]! + HEX[(v >>> 8) & 255]! + HEX[v & 255]!;
}

function guid(rand: () => number): string {
  const a = hex8(rand);
  const b = hex8(rand);
  const c = hex8(rand);
  return `${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${hex8(rand)}`;
}

export interface GenerateO365TracesOptions {
  /** Number of messages (each gives 1..maxRecipients rows). */
  messages: number;
  from: Date;
  to: Date;
  seed?: number;
  /** Default 3. */
  maxRecipients?: number;
  /** Share of rows that arrive late (default 0.2). */
  lateFraction?: number;
  /** How late a late row may be, in ms (default 24 h: Microsoft's documented worst case). */
  maxLatenessMs?: number;
  /** Organization / domain of the tenant. Default contoso.com. */
  organization?: string;
}

/** Rows sorted by `received` ascending. 100k messages take well under a second. */
export function generateO365Traces(options: GenerateO365TracesOptions): O365TraceRow[] {
  // Messages are generated in time order already (received grows with m); a stable sort keeps it cheap.
  return [...o365TraceStream(options)].sort((a, b) => a.received - b.received);
}

/**
 * The rows of `generateO365Traces`, one at a time in the order generated (already by `received`, equal times
 * in generation order: what its stable sort keeps); the simulator stores each as its text as it comes.
 */
export function* o365TraceStream(options: GenerateO365TracesOptions): Generator<O365TraceRow> {
  const rand = seededRandom(options.seed ?? 365);
  const org = options.organization ?? 'contoso.com';
  const from = options.from.getTime();
  const span = Math.max(1, options.to.getTime() - from);
  const maxRecipients = options.maxRecipients ?? 3;
  const lateFraction = options.lateFraction ?? 0.2;
  const maxLateness = options.maxLatenessMs ?? 24 * 3_600_000;
  for (let m = 0; m < options.messages; m++) {
    const received = from + Math.floor((m + rand()) * (span / Math.max(1, options.messages)));
    const traceId = guid(rand);
    const messageId = `<${hex8(rand)}${hex8(rand)}@${org}>`;
    const sender = `user${Math.floor(rand() * 500)}@${rand() < 0.5 ? org : 'fabrikam.com'}`;
    const subject = SUBJECTS[Math.floor(rand() * SUBJECTS.length)]!;
    const size = 1000 + Math.floor(rand() * 200_000);
    const fromIP = `203.0.113.${Math.floor(rand() * 254) + 1}`;
    const inbound = rand() < 0.5;
    const count = 1 + Math.floor(rand() * maxRecipients);
    for (let r = 0; r < count; r++) {
      const late = rand() < lateFraction;
      yield {
        messageTraceId: traceId,
        messageId,
        organization: org,
        sender,
        recipient: `rcpt${m % 997}.${r}@${org}`,
        subject,
        received,
        visibleAt: received + (late ? Math.floor(rand() * maxLateness) : Math.floor(rand() * 60_000)),
        status: STATUSES[Math.floor(rand() * STATUSES.length)]!,
        size,
        fromIP,
        toIP: inbound ? '' : `198.51.100.${Math.floor(rand() * 254) + 1}`,
      };
    }
  }
}

/** RWS `Received` has 7 fractional digits and no `Z` in the JSON-light shape. */
function rwsTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000');
}

/** The 14 keys of vendor-apis.md §2a, in order; the two JSON shapes differ only in how they write a date. */
function rwsFields(row: O365TraceRow, query: { start: number; end: number }, index: number, received: string, date: (ms: number) => string): Record<string, unknown> {
  return {
    Organization: row.organization,
    MessageId: row.messageId,
    Received: received,
    SenderAddress: row.sender,
    RecipientAddress: row.recipient,
    Subject: row.subject,
    Status: row.status,
    ToIP: row.toIP || null,
    FromIP: row.fromIP,
    Size: row.size,
    MessageTraceId: row.messageTraceId,
    StartDate: date(query.start),
    EndDate: date(query.end),
    Index: index,
  };
}

/** The RWS row (JSON light): `Received` without a zone, StartDate/EndDate with 7 fractional digits and `Z`. */
export function toRwsLightRow(row: O365TraceRow, query: { start: number; end: number }, index: number): Record<string, unknown> {
  return rwsFields(row, query, index, rwsTime(row.received), (ms) => `${new Date(ms).toISOString().replace(/Z$/, '')}0000Z`);
}

/** The verbose OData v2 row: `__metadata` plus `/Date(ms)/` dates. */
export function toRwsVerboseRow(row: O365TraceRow, query: { start: number; end: number }, index: number, base: string): Record<string, unknown> {
  const uri = `${base}/MessageTrace(${index})`;
  const odataDate = (ms: number) => `/Date(${ms})/`;
  return { __metadata: { id: uri, uri, type: 'TenantReporting.MessageTrace' }, ...rwsFields(row, query, index, odataDate(row.received), odataDate) };
}

/**
 * The Graph `exchangeMessageTrace` resource (vendor-apis.md §2c). `recalled` is an evolvable enum member:
 * Graph sends it only to clients that asked with `Prefer: include-unknown-enum-members`, else
 * `unknownFutureValue`.
 */
export function toGraphRow(row: O365TraceRow, includeUnknownEnumMembers = false): Record<string, unknown> {
  const status = row.status === 'Recalled' && !includeUnknownEnumMembers ? 'unknownFutureValue' : row.status.charAt(0).toLowerCase() + row.status.slice(1);
  return {
    id: row.messageTraceId,
    senderAddress: row.sender,
    recipientAddress: row.recipient,
    messageId: row.messageId,
    receivedDateTime: new Date(row.received).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    subject: row.subject,
    size: row.size,
    fromIP: row.fromIP,
    toIP: row.toIP,
    status,
  };
}

/** What each status adds after `Receive` in a recipient's detail events (Graph `exchangeMessageTraceDetail`). */
const DETAIL_STEPS: Record<O365TraceStatus, { event: string; action: string; description: string }[]> = {
  Delivered: [{ event: 'Deliver', action: '', description: 'The message was successfully delivered.' }],
  Failed: [{ event: 'Fail', action: '', description: 'Reason: [{LED=550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup};{MSG=};{FQDN=};{IP=};{LRT=}]' }],
  Pending: [{ event: 'Defer', action: '', description: 'The message was deferred: 451 4.4.0 DNS query failed. The next retry is scheduled.' }],
  Expanded: [{ event: 'Expand', action: '', description: 'The message was sent to a distribution group and was expanded to its members.' }],
  Quarantined: [
    { event: 'Malware', action: 'Quarantine', description: 'The message was identified as malware and moved to quarantine.' },
  ],
  FilteredAsSpam: [
    { event: 'Spam', action: 'Move message to Junk Email folder', description: 'The message was marked as spam (SCL 6).' },
    { event: 'Deliver', action: '', description: 'The message was successfully delivered.' },
  ],
  GettingStatus: [],
  Recalled: [
    { event: 'Deliver', action: '', description: 'The message was successfully delivered.' },
    { event: 'Recall', action: '', description: 'The sender recalled the message.' },
  ],
};

/**
 * The detail events of one row (one recipient): `Receive`, then what its status implies, seconds apart,
 * in the shape of the Graph `getDetailsByRecipient` answer. Every detail of a message carries the message
 * trace id as `id` (the example of the API reference does), so `id` alone does not identify a detail.
 */
export function toGraphDetails(row: O365TraceRow): Record<string, unknown>[] {
  const server = `MN2PR00MB${String(Math.abs(hashCode(row.messageTraceId)) % 10_000).padStart(4, '0')}.namprd00.prod.outlook.com`;
  const steps = [{ event: 'Receive', action: '', description: `Message received by: ${server}` }, ...DETAIL_STEPS[row.status]];
  return steps.map((step, i) => ({
    '@odata.type': '#microsoft.graph.exchangeMessageTraceDetail',
    id: row.messageTraceId,
    messageId: row.messageId,
    dateTime: new Date(row.received + i * 5000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    event: step.event,
    action: step.action,
    description: step.description,
    data: `<root><MEP Name="Connector" String="Default ${row.organization}" /><MEP Name="ClientIP" String="${row.fromIP}" /></root>`,
  }));
}

function hashCode(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}
