import { createHash } from 'node:crypto';
import type { ProofpointRecord } from './events.js';

/**
 * The threats behind the SIEM records, for the Threat API (`GET /v2/threat/summary/<threatId>`) and the
 * Forensics API (`GET /v2/forensics?threatId=<id>[&includecampaignforensics=true]`), in the shapes of
 * Proofpoint's pages and its community client (pfptcommunity/tap-api-python): a summary carries
 * `id, identifiedAt, name, type, category, status, detectionType, severity, attackSpread, notable, verticals,
 * geographies, actors, families, malware, techniques, brands`; forensics is
 * `{generated, reports:[{scope, id, name, threatStatus, forensics:[{type, display, engine, malicious, time, what, platforms}]}]}`.
 * Everything is derived from the threat ID, so a threat looks the same however often it is asked for.
 */

export type ProofpointThreatStatus = 'active' | 'cleared' | 'falsePositive';

export interface ProofpointThreat {
  id: string;
  status: ProofpointThreatStatus;
  identifiedAt: string;
  type: string;
  category: string;
  campaignId: string | null;
}

/** A stable small number from an ID, so generated details depend on the threat only. */
function pick(id: string, salt: string, n: number): number {
  return createHash('sha256').update(`${salt}:${id}`).digest().readUInt32BE(0) % n;
}

/** The threats a SIEM record refers to: a message's `threatsInfoMap[]`, a click's own `threatID`. */
export function threatsOfRecord(record: ProofpointRecord): { id: string; status: string; time: string; type: string; category: string; campaignId: string | null }[] {
  const out: { id: string; status: string; time: string; type: string; category: string; campaignId: string | null }[] = [];
  const map = record['threatsInfoMap'];
  if (Array.isArray(map)) {
    for (const t of map as Record<string, unknown>[]) {
      if (t && typeof t['threatID'] === 'string') {
        out.push({
          id: t['threatID'],
          status: String(t['threatStatus'] ?? 'active'),
          time: String(t['threatTime'] ?? ''),
          type: String(t['threatType'] ?? 'url'),
          category: String(t['classification'] ?? 'phish'),
          campaignId: typeof t['campaignID'] === 'string' ? t['campaignID'] : null,
        });
      }
    }
  } else if (typeof record['threatID'] === 'string') {
    out.push({
      id: record['threatID'],
      status: String(record['threatStatus'] ?? 'active'),
      time: String(record['threatTime'] ?? ''),
      type: 'url',
      category: String(record['classification'] ?? 'malware').toLowerCase(),
      campaignId: typeof record['campaignId'] === 'string' ? record['campaignId'] : null,
    });
  }
  return out;
}

/** Sets the status of one threat in a SIEM record (Proofpoint re-reads show the threat's current status). */
export function setRecordThreatStatus(record: ProofpointRecord, id: string, status: ProofpointThreatStatus): void {
  const map = record['threatsInfoMap'];
  if (Array.isArray(map)) {
    for (const t of map as Record<string, unknown>[]) if (t && t['threatID'] === id) t['threatStatus'] = status;
  } else if (record['threatID'] === id) {
    record['threatStatus'] = status;
  }
}

export function threatSummary(threat: ProofpointThreat): Record<string, unknown> {
  const families = ['Emotet', 'QakBot', 'Ursnif', 'Credential Phish'];
  const family = families[pick(threat.id, 'family', families.length)]!;
  return {
    id: threat.id,
    identifiedAt: threat.identifiedAt,
    name: threat.type === 'url' ? `https://badguy.example/${threat.id.slice(0, 8)}` : `${threat.id.slice(0, 12)}.docm`,
    type: threat.type,
    category: threat.category,
    status: threat.status,
    detectionType: pick(threat.id, 'detection', 2) === 0 ? 'Sandbox' : 'Reputation',
    severity: 50 + pick(threat.id, 'severity', 50),
    attackSpread: 1 + pick(threat.id, 'spread', 40),
    notable: pick(threat.id, 'notable', 4) === 0,
    verticals: ['Healthcare'],
    geographies: ['United States'],
    actors: [],
    families: [{ id: `fam-${pick(threat.id, 'famid', 1000)}`, name: family }],
    malware: [],
    techniques: [{ id: 'T1566', name: 'Phishing' }],
    brands: [],
  };
}

function evidence(id: string, salt: string, time: string): Record<string, unknown>[] {
  const count = 1 + pick(id, `${salt}:count`, 3);
  return Array.from({ length: count }, (_, i) => {
    const kind = pick(id, `${salt}:${i}`, 3);
    const what =
      kind === 0
        ? { url: `http://c2.badguy.example/${id.slice(i, i + 6)}`, blacklisted: true }
        : kind === 1
          ? { host: `c2-${i}.badguy.example`, ips: [`203.0.113.${1 + pick(id, `${salt}:ip${i}`, 250)}`] }
          : { action: 'create', path: `C:\\Users\\victim\\AppData\\Roaming\\${id.slice(0, 6)}-${i}.exe`, sha256: createHash('sha256').update(`${id}${i}`).digest('hex') };
    return {
      type: ['url', 'dns', 'file'][kind],
      display: `${['URL', 'DNS lookup', 'File created'][kind]} ${i + 1} of ${salt}`,
      engine: ['urldefense', 'sandbox', 'sandbox'][kind],
      malicious: true,
      time,
      what,
      platforms: [{ name: 'windows10', os: 'windows', version: '10' }],
    };
  });
}

/** The Forensics API answer for a threat; with `includeCampaign`, the campaign's report too (when it has one). */
export function threatForensics(threat: ProofpointThreat, includeCampaign: boolean, now: number): Record<string, unknown> {
  const reports: Record<string, unknown>[] = [
    { scope: 'THREAT', id: threat.id, name: threatSummary(threat)['name'], threatStatus: threat.status, forensics: evidence(threat.id, 'threat', threat.identifiedAt) },
  ];
  if (includeCampaign && threat.campaignId) {
    reports.push({ scope: 'CAMPAIGN', id: threat.campaignId, name: `Campaign ${threat.campaignId.slice(0, 8)}`, threatStatus: threat.status, forensics: evidence(threat.campaignId, 'campaign', threat.identifiedAt) });
  }
  return { generated: new Date(now).toISOString(), reports };
}
