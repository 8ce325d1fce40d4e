import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { loadConfig, type CollectorDefinition } from '@collector/sdk';
import { larkCollector } from '@collector/lark';
import { darktraceCollector } from '@collector/darktrace';
import { proofpointTapCollector } from '@collector/proofpoint-tap';
import { o365EmtCollector } from '@collector/o365-emt';
import { awsSqsCollector } from '@collector/aws-sqs';

// Every manifest under deploy/kubernetes parses, and each collector is deployed the way its kind needs:
// pull collectors as exactly one replica with persistent state, aws-sqs as a Deployment scaled on queue depth.
const dir = fileURLToPath(new URL('../../../deploy/kubernetes/', import.meta.url));
type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: any };

const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
const docsByFile = new Map<string, Doc[]>(
  files.map((f) => {
    const parsed = parseAllDocuments(readFileSync(join(dir, f), 'utf8'));
    for (const d of parsed) if (d.errors.length) throw new Error(`${f}: ${d.errors[0]!.message}`);
    return [f, parsed.map((d) => d.toJS() as Doc).filter(Boolean)];
  }),
);
const all = [...docsByFile.values()].flat();
const find = (kind: string, name: string) => all.find((d) => d.kind === kind && d.metadata.name === name);

const PULL: Record<string, CollectorDefinition> = {
  lark: larkCollector,
  darktrace: darktraceCollector,
  'proofpoint-tap': proofpointTapCollector,
  'o365-emt': o365EmtCollector,
};

function podSpec(workload: Doc) {
  return workload.spec.template.spec;
}

function checkCollectorPod(workload: Doc, vendor: string) {
  const pod = podSpec(workload);
  expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 });
  expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
  const [container] = pod.containers;
  expect(container.image).toMatch(new RegExp(`devo-collector-${vendor}:\\d+\\.\\d+\\.\\d+$`));
  expect(container.env).toContainEqual({ name: 'CONFIG_FILE', value: 'config.yaml' });
  expect(container.livenessProbe.httpGet).toMatchObject({ path: '/health', port: 'http' });
  expect(container.readinessProbe.httpGet).toMatchObject({ path: '/ready', port: 'http' });
  expect(container.ports).toContainEqual({ name: 'http', containerPort: 3000 });
  expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
  const mounts = Object.fromEntries(container.volumeMounts.map((m: any) => [m.mountPath, m]));
  expect(mounts['/devo-collector/config']).toMatchObject({ readOnly: true });
  expect(mounts['/devo-collector/certs']).toMatchObject({ readOnly: true });
  // Every mounted volume is declared (pod volumes or claim templates) and every reference resolves.
  const volumes = new Map<string, any>(pod.volumes.map((v: any) => [v.name, v]));
  for (const claim of workload.spec.volumeClaimTemplates ?? []) volumes.set(claim.metadata.name, { pvc: true });
  for (const m of container.volumeMounts) expect(volumes.has(m.name), `${workload.metadata.name} mounts ${m.name}`).toBe(true);
  const configVolume = volumes.get(mounts['/devo-collector/config'].name);
  const configMap = find('ConfigMap', configVolume.configMap.name);
  expect(configMap, configVolume.configMap.name).toBeDefined();
  expect(volumes.get(mounts['/devo-collector/certs'].name).secret.secretName).toBe('devo-certs');
  for (const ref of container.envFrom ?? []) expect(find('Secret', ref.secretRef.name), ref.secretRef.name).toBeDefined();
  return { configMap: configMap!, container, volumes, mounts };
}

/** The ConfigMap's config.yaml is a valid config for the collector (the SDK's own loader and schema). */
function checkConfig(configMap: Doc, definition: CollectorDefinition, env: Record<string, string>) {
  const raw = parseYaml(configMap.data['config.yaml']);
  expect(raw.outputs.devo_1).toMatchObject({ type: 'devo_platform', config: { type: 'SSL', chain: 'chain.crt', cert: 'collector.crt', key: 'collector.key' } });
  expect(raw.globals.http_server).toMatchObject({ enabled: true, port: 3000 });
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const config = loadConfig(definition, '<configmap>', { workDir: '/devo-collector', raw });
    expect(Object.keys(config.inputs)).toEqual(definition.inputs.map((i) => i.name));
    return config;
  } finally {
    process.env = saved;
  }
}

describe('deploy/kubernetes', () => {
  it('every manifest parses, has apiVersion/kind/name, and lives in the devo-collectors namespace', () => {
    expect(files).toEqual(expect.arrayContaining(['namespace.yaml', 'aws-sqs.yaml', ...Object.keys(PULL).map((v) => `${v}.yaml`)]));
    for (const doc of all) {
      expect(doc.apiVersion, JSON.stringify(doc.metadata)).toBeTruthy();
      expect(doc.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      if (doc.kind !== 'Namespace') expect(doc.metadata.namespace).toBe('devo-collectors');
    }
    expect(find('Namespace', 'devo-collectors')).toBeDefined();
    // No real secret in the repository: the examples carry placeholders only.
    for (const secret of all.filter((d) => d.kind === 'Secret')) {
      for (const value of Object.values<string>(secret.stringData ?? {})) expect(value).toMatch(/replace|^0{8}-|example\.com/);
    }
  });

  it.each(Object.keys(PULL))('%s: exactly one replica, a StatefulSet with a persistent state volume, a valid config', (vendor) => {
    const set = find('StatefulSet', `collector-${vendor}`)!;
    expect(set, `StatefulSet collector-${vendor}`).toBeDefined();
    expect(set.spec.replicas).toBe(1);
    const { configMap, mounts } = checkCollectorPod(set, vendor);
    const stateClaim = set.spec.volumeClaimTemplates.find((c: any) => c.metadata.name === mounts['/devo-collector/state'].name);
    expect(stateClaim.spec.accessModes).toEqual(['ReadWriteOnce']);
    // No autoscaler may ever add a second puller.
    expect(all.some((d) => d.kind === 'ScaledObject' && d.spec.scaleTargetRef.name === set.metadata.name)).toBe(false);
    expect(all.some((d) => d.kind === 'HorizontalPodAutoscaler' && d.spec.scaleTargetRef.name === set.metadata.name)).toBe(false);
    const secret = find('Secret', `collector-${vendor}-credentials`)!;
    const config = checkConfig(configMap, PULL[vendor]!, secret.stringData);
    expect(config.globals.persistence).toMatchObject({ type: 'filesystem', config: { directory_name: 'state' } });
    // Credentials come from the Secret through ${env:...}: the ConfigMap holds no secret value.
    for (const value of Object.values<string>(secret.stringData)) expect(configMap.data['config.yaml']).not.toContain(value);
  });

  it('the Redis variant is one replica that is stopped before its successor starts, with redis persistence', () => {
    const deployment = find('Deployment', 'collector-lark-redis')!;
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy.type).toBe('Recreate');
    const { configMap } = checkCollectorPod(deployment, 'lark');
    const config = checkConfig(configMap, larkCollector, { ...find('Secret', 'collector-lark-credentials')!.stringData, ...find('Secret', 'collector-redis')!.stringData });
    expect(config.globals.persistence).toMatchObject({ type: 'redis', config: { host: 'redis', port: 6379 } });
  });

  it('aws-sqs: a Deployment that KEDA scales on the depth of the same queue the collector reads', () => {
    const deployment = find('Deployment', 'collector-aws-sqs')!;
    const { configMap, volumes, mounts } = checkCollectorPod(deployment, 'aws-sqs');
    expect(volumes.get(mounts['/devo-collector/state'].name)).toHaveProperty('emptyDir');
    expect(podSpec(deployment).serviceAccountName).toBe('collector-aws-sqs');
    expect(find('ServiceAccount', 'collector-aws-sqs')!.metadata).toHaveProperty(['annotations', 'eks.amazonaws.com/role-arn']);
    const config = checkConfig(configMap, awsSqsCollector, {});
    const service = Object.values<any>(config.inputs['sqs_collector']!.services!)[0];

    const scaled = find('ScaledObject', 'collector-aws-sqs')!;
    expect(scaled.apiVersion).toBe('keda.sh/v1alpha1');
    expect(scaled.spec.scaleTargetRef.name).toBe('collector-aws-sqs');
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(scaled.spec.maxReplicaCount).toBeGreaterThan(scaled.spec.minReplicaCount);
    const [trigger] = scaled.spec.triggers;
    expect(trigger.type).toBe('aws-sqs-queue');
    expect(trigger.metadata.queueURL).toBe(service.base_url);
    expect(Number(trigger.metadata.queueLength)).toBeGreaterThan(0);
    expect(find('TriggerAuthentication', trigger.authenticationRef.name)).toBeDefined();
    expect(find('PodDisruptionBudget', 'collector-aws-sqs')!.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });
});
