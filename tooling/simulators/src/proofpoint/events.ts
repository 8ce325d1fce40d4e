import { seededRandom } from '../seeded-random.js';
/**
 * Deterministic Proofpoint TAP SIEM records (vendor-apis.md §4): message items carry exactly the keys of the
 * documented `messagesDelivered` item, click items those of the `clicksPermitted` item. A message sent to
 * several recipients is several records that share GUID, QID, messageID and messageTime and differ by
 * `recipient` and `id` (peers.md §5c: the per-recipient fan-out Elastic's fingerprint dropped).
 */

export type ProofpointSiemService = 'messagesBlocked' | 'messagesDelivered' | 'clicksBlocked' | 'clicksPermitted';
export const PROOFPOINT_SIEM_SERVICES: readonly ProofpointSiemService[] = ['messagesBlocked', 'messagesDelivered', 'clicksBlocked', 'clicksPermitted'];

export type ProofpointRecord = Record<string, unknown>;


function hex(rand: () => number, length: number): string {
  let out = '';
  while (out.length < length) out += Math.floor(rand() * 0x100000000).toString(16).padStart(8, '0');
  return out.slice(0, length);
}

function uuid(rand: () => number): string {
  const h = hex(rand, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

export interface ProofpointMessageOptions {
  /** The event's creation time (the later of messageTime and threatTime): what `interval` selects on. */
  createdAt: number;
  /** Recipients; one record each. Default one generated address. */
  recipients?: string[];
  /** How long before the threat was recognised the message arrived (ms). Default 0..10 min. */
  messageAgeMs?: number;
  threatStatus?: 'active' | 'cleared' | 'falsePositive';
}

/** One message (all its per-recipient records). */
export function makeProofpointMessage(rand: () => number, opts: ProofpointMessageOptions): ProofpointRecord[] {
  const guid = hex(rand, 30);
  const qid = hex(rand, 20).toUpperCase();
  const messageId = `<${hex(rand, 12)}@example.com>`;
  const age = opts.messageAgeMs ?? Math.floor(rand() * 600_000);
  const messageTime = iso(opts.createdAt - age);
  const threatTime = iso(opts.createdAt);
  const recipients = opts.recipients ?? [`user${Math.floor(rand() * 10_000)}@example.com`];
  const threatId = hex(rand, 64);
  const sender = `sender${Math.floor(rand() * 1000)}@badguy.example`;
  // Every record of one message is the same but for `id` and `recipient` (what Elastic's fingerprint missed).
  const base: ProofpointRecord = {
    GUID: guid,
    QID: qid,
    id: '',
    messageTime,
    messageID: messageId,
    sender,
    senderIP: `198.51.100.${Math.floor(rand() * 254) + 1}`,
    recipient: [] as string[],
    toAddresses: recipients,
    ccAddresses: [],
    fromAddress: [sender],
    headerFrom: `Sender <${sender}>`,
    headerReplyTo: null,
    replyToAddress: [],
    subject: `Invoice ${Math.floor(rand() * 100_000)}`,
    messageSize: 1000 + Math.floor(rand() * 100_000),
    spamScore: Math.floor(rand() * 100),
    phishScore: Math.floor(rand() * 100),
    impostorScore: 0,
    malwareScore: Math.floor(rand() * 100),
    cluster: 'example_hosted',
    completelyRewritten: true,
    xmailer: null,
    policyRoutes: ['default_inbound'],
    modulesRun: ['av', 'zerohour', 'spf', 'dkimv', 'spam', 'pdr', 'urldefense'],
    quarantineFolder: null,
    quarantineRule: null,
    messageParts: [
      { disposition: 'inline', filename: 'text.html', contentType: 'text/html', oContentType: 'text/html', md5: hex(rand, 32), sha256: hex(rand, 64), sandboxStatus: null },
    ],
    threatsInfoMap: [
      {
        threatID: threatId,
        threatStatus: opts.threatStatus ?? 'active',
        classification: 'phish',
        threatType: 'url',
        threat: `https://badguy.example/${hex(rand, 8)}`,
        threatTime,
        threatUrl: `https://threatinsight.proofpoint.com/0/threat/email/${threatId}`,
        campaignID: null,
      },
    ],
  };
  // Spreading keeps the key order of `base`: id stays third, as Proofpoint sends it.
  return recipients.map((recipient) => ({ ...base, id: uuid(rand), recipient: [recipient] }));
}

/** One click record. */
export function makeProofpointClick(rand: () => number, opts: { createdAt: number; recipient?: string; threatStatus?: string }): ProofpointRecord {
  const threatId = hex(rand, 64);
  const clickTime = iso(opts.createdAt - Math.floor(rand() * 60_000));
  return {
    campaignId: uuid(rand),
    classification: 'MALWARE',
    clickIP: `192.0.2.${Math.floor(rand() * 254) + 1}`,
    clickTime,
    GUID: hex(rand, 30),
    id: uuid(rand),
    messageID: uuid(rand),
    recipient: opts.recipient ?? `user${Math.floor(rand() * 10_000)}@example.com`,
    sender: `${hex(rand, 32)}@badguy.example`,
    senderIP: `192.0.2.255`,
    threatID: threatId,
    threatTime: iso(opts.createdAt),
    threatURL: `https://threatinsight.proofpoint.com/0/threat/u/${threatId}`,
    threatStatus: opts.threatStatus ?? 'active',
    url: `http://badguy.example/${hex(rand, 6)}`,
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0',
  };
}

export function isProofpointMessageService(service: ProofpointSiemService): boolean {
  return service === 'messagesBlocked' || service === 'messagesDelivered';
}

/**
 * The creation time the API selects on: the later of the message/click time and every threat time.
 * (vendor-apis.md: "Events are selected by creation time".)
 */
export function proofpointCreationTime(record: ProofpointRecord): number {
  const times: number[] = [];
  for (const key of ['messageTime', 'clickTime', 'threatTime']) {
    const value = record[key];
    if (typeof value === 'string') times.push(Date.parse(value));
  }
  const threats = record['threatsInfoMap'];
  if (Array.isArray(threats)) for (const t of threats) if (t && typeof t.threatTime === 'string') times.push(Date.parse(t.threatTime));
  const valid = times.filter((t) => Number.isFinite(t));
  return valid.length ? Math.max(...valid) : 0;
}

export interface GenerateProofpointEventsOptions {
  service: ProofpointSiemService;
  /** Messages (each fanned out to `recipientsPerMessage` records) or clicks. */
  count: number;
  from: number;
  to: number;
  /** Records per message (messages only). Default 1. */
  recipientsPerMessage?: number;
  seed?: number;
}

/** `count` messages or clicks spread evenly over [from, to), deterministic for a seed. */
export function generateProofpointEvents(opts: GenerateProofpointEventsOptions): ProofpointRecord[] {
  return [...proofpointEventStream(opts)];
}

/**
 * The records of `generateProofpointEvents`, one at a time: the simulator stores each as its text as it comes,
 * so a million of them never exist as objects at once.
 */
export function* proofpointEventStream(opts: GenerateProofpointEventsOptions): Generator<ProofpointRecord> {
  const rand = seededRandom(opts.seed ?? 7);
  const step = (opts.to - opts.from) / Math.max(1, opts.count);
  for (let i = 0; i < opts.count; i++) {
    const createdAt = Math.floor(opts.from + i * step + rand() * step * 0.9);
    if (isProofpointMessageService(opts.service)) {
      const n = opts.recipientsPerMessage ?? 1;
      const recipients = Array.from({ length: n }, (_, r) => `user${i}-${r}@example.com`);
      yield* makeProofpointMessage(rand, { createdAt, recipients });
    } else {
      yield makeProofpointClick(rand, { createdAt, recipient: `user${i}@example.com` });
    }
  }
}
