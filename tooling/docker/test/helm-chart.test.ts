import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { type CollectorDefinition } from '@collector/sdk';
import { loadConfig } from '@collector/sdk/host';
import { definitionOf, VENDORS } from '@collector/testkit';
import { helm } from './helm.js';

// deploy/helm/devo-collectors, rendered by the real helm (./helm.ts) with the chart's ci/ values: helm lint
// --strict, values.schema.json, then every object validated against the Kubernetes OpenAPI schema (and
// KEDA's and the Prometheus Operator's CRD schemas), and each collector deployed the way its kind needs.
const chart = fileURLToPath(new URL('../../../deploy/helm/devo-collectors', import.meta.url));
const ALL = `${chart}/ci/all-collectors-values.yaml`;
const HA = `${chart}/ci/high-availability-values.yaml`;

type Doc = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: any };

/** The OpenAPI schema of every kind the chart may render; a kind without one fails the test. */
const MODELS: Record<string, { new (data: any): { validate(): void } }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

/** Every collector's definition, by the registry's name (the chart's collectors.<name>). */
const DEFINITIONS: Record<string, CollectorDefinition> = Object.fromEntries(await Promise.all(VENDORS.map(async (v) => [v.name, definitionOf<CollectorDefinition>(v, await import(v.package))])));
const PULL = VENDORS.filter((v) => v.kind === 'pull').map((v) => v.name);
const appVersion = (parseYaml(readFileSync(`${chart}/Chart.yaml`, 'utf8')) as { appVersion: string }).appVersion;

async function render(...args: string[]): Promise<Doc[]> {
  const { code, stdout, stderr } = await helm(['template', 'rel', chart, '--namespace', 'devo', ...args]);
  expect(code, stderr).toBe(0);
  return parseAllDocuments(stdout).map((d) => {
    expect(d.errors, String(d.errors[0])).toEqual([]);
    return d.toJS() as Doc;
  }).filter(Boolean);
}

const find = (docs: Doc[], kind: string, name: string) => {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
  expect(doc, `${kind} ${name}`).toBeDefined();
  return doc!;
};

/** config.yaml of a ConfigMap, through the SDK's own loader and the collector's schema. */
function loadConfigMap(configMap: Doc, definition: CollectorDefinition, env: Record<string, string>) {
  const raw = parseYaml(configMap.data['config.yaml']);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const config = loadConfig(definition, '<configmap>', { workDir: '/devo-collector', raw });
    expect(Object.keys(config.inputs)).toEqual(definition.inputs.map((i) => i.name));
    return { raw, config };
  } finally {
    process.env = saved;
  }
}

/** What every collector pod gets, whatever its kind. */
function checkPod(docs: Doc[], workload: Doc, app: string) {
  const pod = workload.spec.template.spec;
  expect(pod.automountServiceAccountToken).toBe(false);
  expect(find(docs, 'ServiceAccount', pod.serviceAccountName).automountServiceAccountToken).toBe(false);
  expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
  expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
  const [container] = pod.containers;
  expect(container.image).toBe(`ghcr.io/devo-collectors/devo-collector-${app}:${appVersion}`);
  expect(container.env).toContainEqual({ name: 'CONFIG_FILE', value: 'config.yaml' });
  expect(container.ports).toContainEqual({ name: 'http', containerPort: 3000, protocol: 'TCP' });
  expect(container.startupProbe.httpGet).toEqual({ path: '/health', port: 'http' });
  expect(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold).toBeGreaterThanOrEqual(60);
  expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
  expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
  expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  const mounts = Object.fromEntries(container.volumeMounts.map((m: any) => [m.mountPath, m]));
  expect(mounts['/devo-collector/config']).toMatchObject({ readOnly: true });
  expect(mounts['/devo-collector/certs']).toMatchObject({ readOnly: true });
  expect(mounts['/devo-collector/state']).toBeDefined();
  // Every mount has its volume (pod volumes or claim templates) and every reference resolves.
  const volumes = new Map<string, any>(pod.volumes.map((v: any) => [v.name, v]));
  for (const claim of workload.spec.volumeClaimTemplates ?? []) volumes.set(claim.metadata.name, { pvc: claim });
  for (const m of container.volumeMounts) expect(volumes.has(m.name), `${workload.metadata.name} mounts ${m.name}`).toBe(true);
  expect(volumes.get(mounts['/devo-collector/certs'].name).secret).toEqual({ secretName: 'devo-certs', defaultMode: 0o440 });
  const configMap = find(docs, 'ConfigMap', volumes.get(mounts['/devo-collector/config'].name).configMap.name);
  const secrets = (container.envFrom ?? []).map((ref: any) => ref.secretRef.name as string);
  // The Service, NetworkPolicy and ServiceMonitor select exactly this workload's pods.
  const selector = workload.spec.selector.matchLabels;
  expect(workload.spec.template.metadata.labels).toMatchObject(selector);
  expect(find(docs, 'Service', workload.metadata.name).spec.selector).toEqual(selector);
  const policy = find(docs, 'NetworkPolicy', workload.metadata.name);
  expect(policy.spec.podSelector.matchLabels).toEqual(selector);
  expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
  expect(policy.spec.ingress).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }] }]);
  return { pod, container, volumes, mounts, configMap, secrets, policy };
}

describe('deploy/helm/devo-collectors', () => {
  let all: Doc[];
  let ha: Doc[];
  beforeAll(async () => {
    [all, ha] = await Promise.all([render('-f', ALL), render('-f', HA)]);
  }, 120_000);

  it('helm lint --strict passes with every ci/ values file', async () => {
    for (const values of [ALL, HA]) {
      const { code, stdout, stderr } = await helm(['lint', '--strict', chart, '-f', values]);
      expect(code, stdout + stderr).toBe(0);
      expect(stdout).toContain('0 chart(s) failed');
    }
  });

  it('with the default values it renders nothing: every collector is opt-in', async () => {
    expect(await render()).toEqual([]);
  });

  it('every rendered object is valid against its Kubernetes (or CRD) OpenAPI schema', () => {
    for (const doc of [...all, ...ha]) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      expect(Model, `no schema for ${doc.apiVersion} ${doc.kind}`).toBeDefined();
      expect(() => new Model!(doc).validate(), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
      expect(doc.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(doc.metadata.labels).toMatchObject({ 'app.kubernetes.io/part-of': 'devo-collectors', 'app.kubernetes.io/instance': 'rel' });
    }
    // The schema check is not vacuous: a wrong type is caught.
    const broken = structuredClone(find(all, 'StatefulSet', 'rel-lark'));
    broken.spec.replicas = '1';
    expect(() => new StatefulSet(broken).validate()).toThrow(/replicas/);
  });

  it.each(PULL)('%s: a StatefulSet, exactly one replica, a ReadWriteOnce state volume, a valid config', (app) => {
    const set = find(all, 'StatefulSet', `rel-${app}`);
    expect(set.spec.replicas).toBe(1);
    expect(set.spec.serviceName).toBe(`rel-${app}`);
    expect(find(all, 'Service', `rel-${app}`).spec.clusterIP).toBe('None');
    const { configMap, secrets, mounts, volumes } = checkPod(all, set, app);
    expect(volumes.get(mounts['/devo-collector/state'].name).pvc.spec).toMatchObject({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
    // No autoscaler, no disruption budget: nothing may ever add a second puller.
    expect(all.filter((d) => ['ScaledObject', 'HorizontalPodAutoscaler'].includes(d.kind) && d.spec.scaleTargetRef.name === set.metadata.name)).toEqual([]);
    // Credentials come from the Secret through ${env:...}: the ConfigMap holds no secret value.
    expect(secrets).toEqual([`rel-${app}-credentials`]);
    const secret = find(all, 'Secret', `rel-${app}-credentials`);
    for (const value of Object.values<string>(secret.stringData)) expect(configMap.data['config.yaml']).not.toContain(value);
    const { raw, config } = loadConfigMap(configMap, DEFINITIONS[app]!, secret.stringData);
    expect(config.warnings).toEqual([]);
    expect(config.globals.persistence).toMatchObject({ type: 'filesystem', config: { directory_name: 'state' } });
    expect(raw.globals.http_server).toEqual({ enabled: true, address: '0.0.0.0', port: 3000 });
    expect(raw.outputs).toEqual({ devo_1: { type: 'devo_platform', config: { address: 'collector-eu.devo.io', port: 443, type: 'SSL', chain: 'chain.crt', cert: 'collector.crt', key: 'collector.key' } } });
    expect(find(all, 'ServiceMonitor', `rel-${app}`).spec).toEqual({
      selector: { matchLabels: set.spec.selector.matchLabels },
      endpoints: [{ port: 'http', path: '/metrics', interval: '30s' }],
    });
  });

  it('aws-sqs: a Deployment that KEDA scales on the depth of the same queue the collector reads', () => {
    const deployment = find(all, 'Deployment', 'rel-aws-sqs');
    expect(deployment.spec).not.toHaveProperty('replicas'); // KEDA owns the count
    const { configMap, volumes, mounts, pod } = checkPod(all, deployment, 'aws-sqs');
    expect(volumes.get(mounts['/devo-collector/state'].name)).toHaveProperty('emptyDir');
    expect(find(all, 'ServiceAccount', pod.serviceAccountName).metadata.annotations).toHaveProperty(['eks.amazonaws.com/role-arn']);
    const { config } = loadConfigMap(configMap, DEFINITIONS['aws-sqs']!, {});
    const service = Object.values<any>(config.inputs['sqs_collector']!.services!)[0];
    const scaled = find(all, 'ScaledObject', 'rel-aws-sqs');
    expect(scaled.spec.scaleTargetRef).toEqual({ name: 'rel-aws-sqs' });
    expect(scaled.spec.maxReplicaCount).toBeGreaterThan(scaled.spec.minReplicaCount);
    expect(scaled.spec.triggers).toHaveLength(1);
    const [trigger] = scaled.spec.triggers;
    expect(trigger).toMatchObject({ type: 'aws-sqs-queue', metadata: { queueURL: service.base_url, awsRegion: service.region, queueLength: '500', scaleOnInFlight: 'true' } });
    expect(find(all, 'TriggerAuthentication', trigger.authenticationRef.name).spec.podIdentity).toEqual({ provider: 'aws', identityOwner: 'workload' });
    expect(find(all, 'PodDisruptionBudget', 'rel-aws-sqs').spec).toEqual({ minAvailable: 1, selector: { matchLabels: deployment.spec.selector.matchLabels } });
    // Without KEDA: a fixed replica count and no KEDA object.
    expect(find(ha, 'Deployment', 'rel-aws-sqs').spec.replicas).toBe(3);
    expect(ha.filter((d) => d.apiVersion.startsWith('keda.sh/'))).toEqual([]);
  });

  it('high availability: a Deployment with 2 replicas, Redis persistence and the lease in globals.high_availability', () => {
    const deployment = find(ha, 'Deployment', 'rel-lark');
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(ha.some((d) => d.kind === 'StatefulSet')).toBe(false);
    const { configMap, secrets, pod, policy, volumes, mounts } = checkPod(ha, deployment, 'lark');
    expect(volumes.get(mounts['/devo-collector/state'].name)).toHaveProperty('emptyDir');
    expect(secrets).toEqual(['rel-lark-credentials', 'collector-redis']);
    const raw = parseYaml(configMap.data['config.yaml']);
    expect(raw.globals.high_availability).toEqual({ enabled: true, lease_seconds: 15 });
    expect(raw.globals.persistence).toEqual({ type: 'redis', config: { host: 'redis.data.svc', port: 6379, password: '${env:REDIS_PASSWORD}' } });
    // The rest of the config is what the collector accepts.
    const { config } = loadConfigMap(configMap, DEFINITIONS['lark']!, { ...find(ha, 'Secret', 'rel-lark-credentials').stringData, REDIS_PASSWORD: 'x' });
    expect(config.globals.persistence).toMatchObject({ type: 'redis', config: { host: 'redis.data.svc', port: 6379 } });
    // Both replicas do not share a node when another is available, node drains keep one, Redis is reachable.
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm).toMatchObject({ topologyKey: 'kubernetes.io/hostname' });
    expect(find(ha, 'PodDisruptionBudget', 'rel-lark').spec.minAvailable).toBe(1);
    expect(policy.spec.egress).toContainEqual({
      to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'redis' } }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } } }],
      ports: [{ port: 6379, protocol: 'TCP' }],
    });
  });

  it('Redis persistence without high availability: one replica, stopped before its successor starts', () => {
    const deployment = find(ha, 'Deployment', 'rel-darktrace');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    const { configMap } = checkPod(ha, deployment, 'darktrace');
    const raw = parseYaml(configMap.data['config.yaml']);
    expect(raw.globals.persistence.type).toBe('redis');
    expect(raw.globals).not.toHaveProperty('high_availability');
  });

  it('bad values stop the render with the offending path', async () => {
    const cases: [string[], RegExp][] = [
      [['--set', 'collectors.lark.persistence.type=nfs'], /collectors\/lark\/persistence\/type/],
      [['--set', 'collectors.lark.enabled=true', '--set', 'collectors.lark.highAvailability.replicas=1'], /collectors\/lark\/highAvailability\/replicas/],
      [['--set', 'collectors.lark.enabled=true', '--set', 'collectors.lark.globals.persistence.type=memory'], /collectors\/lark\/globals/],
      [['--set', 'collectors.larkk.enabled=true'], /larkk/],
      [['--set', 'collectors.aws-sqs.enabled=true', '--set', 'collectors.aws-sqs.highAvailability.enabled=true'], /aws-sqs/],
      [['--set', 'collectors.lark.enabled=true', '--set', 'collectors.lark.highAvailability.enabled=true', '--set', 'redis.host='], /redis\.host is required/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await helm(['template', 'rel', chart, ...args]);
      expect(code, args.join(' ')).not.toBe(0);
      expect(stderr).toMatch(message);
    }
  });

  it('an existing credentials Secret replaces the rendered one; the image can be pinned by digest', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const docs = await render('--set', 'collectors.lark.enabled=true', '--set', 'collectors.lark.credentials.existingSecret=lark-creds', '--set', `image.digest=${digest}`);
    expect(docs.some((d) => d.kind === 'Secret')).toBe(false);
    const [container] = find(docs, 'StatefulSet', 'rel-lark').spec.template.spec.containers;
    expect(container.envFrom).toEqual([{ secretRef: { name: 'lark-creds' } }]);
    expect(container.image).toBe(`ghcr.io/devo-collectors/devo-collector-lark@${digest}`);
  });

  it('the chart and the collectors have one version', () => {
    const app = JSON.parse(readFileSync(fileURLToPath(new URL('../../../apps/lark/package.json', import.meta.url)), 'utf8')) as { version: string };
    expect(appVersion).toBe(app.version);
  });
});
