import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { VENDOR_NAMES } from '@collector/testkit';

// What the images promise operators (the manuals' docker run / docker-compose, CONVENTIONS.md), checked
// on the Dockerfile and compose files themselves; image.test.ts builds and runs a real image.
const here = fileURLToPath(new URL('..', import.meta.url));
const repo = join(here, '..', '..');
const dockerfile = readFileSync(join(here, 'Dockerfile'), 'utf8');
const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const stages = dockerfile.replace(/\\\n\s*/g, ' ').split(/^FROM /m).slice(1);
const runtime = stages.at(-1)!;
const APPS = VENDOR_NAMES;

describe('tooling/docker/Dockerfile', () => {
  it('builds any app from one file: ARG APP, ARG BASE_IMAGE defaulting to the official Node 24 slim image, pinned by digest', () => {
    expect(lines[0]).toMatch(/^ARG BASE_IMAGE=docker\.io\/library\/node:24-trixie-slim@sha256:[0-9a-f]{64}$/);
    expect(lines.filter((l) => l.startsWith('FROM ')).every((l) => l.startsWith('FROM ${BASE_IMAGE}'))).toBe(true);
    expect(dockerfile).toMatch(/^ARG APP$/m);
    // Only APP's production closure goes into the image.
    expect(dockerfile).toContain('pnpm --filter "@collector/${APP}-app" deploy --prod /out/app');
    expect(dockerfile).toContain('pnpm install ${PNPM_INSTALL_FLAGS}');
    expect(dockerfile).toMatch(/ARG PNPM_INSTALL_FLAGS="--frozen-lockfile --offline"/);
  });

  it('runtime stage: non-root, the Devo layout and volumes, CONFIG_FILE, health check, SIGTERM, no shell needed', () => {
    expect(runtime).toMatch(/^USER 1000:1000$/m);
    expect(runtime).toMatch(/^WORKDIR \/devo-collector$/m);
    expect(runtime).toContain('VOLUME ["/devo-collector/certs", "/devo-collector/config", "/devo-collector/state"]');
    expect(runtime).toMatch(/CONFIG_FILE=config\.yaml/);
    expect(runtime).toMatch(/COPY --from=build --chown=1000:1000 \/out\/devo-collector \/devo-collector/);
    expect(runtime).toMatch(/^HEALTHCHECK .*CMD \["node", "-e", ".*\/health.*"\]/m);
    expect(runtime).toMatch(/^STOPSIGNAL SIGTERM$/m);
    // The executable itself, so the launch line of its shebang applies (made executable in the build stage).
    expect(runtime).toMatch(/^ENTRYPOINT \["\/opt\/collector\/dist\/main\.js"\]$/m);
    expect(dockerfile).toMatch(/&& chmod 755 \/out\/app\/dist\/main\.js$/m);
    // No RUN in the final stage: the base needs only Node and /usr/bin/env (for the shebang).
    expect(runtime).not.toMatch(/^RUN /m);
    expect(runtime).toMatch(/^EXPOSE 3000$/m);
  });

  it('the collectors declare their launch lines (memory settings, docs/benchmarks.md) that the entrypoint runs', () => {
    const shebang = (app: string) => readFileSync(join(repo, 'apps', app, 'src', 'main.ts'), 'utf8').split('\n', 1)[0]!;
    const pull = ['lark'].map(shebang);
    // Darktrace: a smaller young generation (its events wait as bytes; measured: lower peak and CPU).
    expect(shebang('darktrace')).toBe(pull[0]!.replace(/--max-semi-space-size=\d+$/, '--max-semi-space-size=8'));
    // Microsoft 365 the same (its page texts no longer outlive their parse: the peak ~20 MiB lower).
    expect(shebang('o365-emt')).toBe(shebang('darktrace'));
    // At most two glibc arenas (the main one and one for the V8 and libuv threads): the idle daemon keeps less.
    expect(pull[0]).toMatch(/^#!\/usr\/bin\/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=\d+ node --max-semi-space-size=\d+$/);
    // Kernels before Linux 5.1 cut a shebang at 127 bytes.
    expect(pull[0]!.length).toBeLessThan(127);
    // Proofpoint: Darktrace's (its records are forwarded as text: with both settings its peak is 20–34 MiB lower),
    // with one glibc heap (wave 12: its peak at 100,000 events 2–8 MiB lower, CPU per event unchanged).
    expect(shebang('proofpoint-tap')).toBe(shebang('darktrace').replace('MALLOC_ARENA_MAX=2', 'MALLOC_ARENA_MAX=1'));
    // AWS SQS: the same allocator setting, a smaller young generation and an old generation grown to 2.75× its
    // live size instead of V8's 4× (its README's Performance section).
    // Its processing threads decompress in parallel, so it keeps glibc's default arenas.
    expect(shebang('aws-sqs')).toBe(
      pull[0]!.replace('MALLOC_ARENA_MAX=2 ', '').replace(/--max-semi-space-size=\d+$/, '--max-semi-space-size=4 --heap-growing-percent=175'),
    );
    expect(shebang('aws-sqs').length).toBeLessThan(127);
  });

  it('the health probe is valid JavaScript that exits 0 only on a 2xx /health', () => {
    const cmd = /HEALTHCHECK .*CMD (\[.*\])/.exec(lines.join('\n'))![1]!;
    const [, flag, script] = JSON.parse(cmd) as string[];
    expect(flag).toBe('-e');
    expect(() => new Function(script!)).not.toThrow();
    expect(script).toContain("process.env.HEALTH_PORT||3000");
  });

  it('the build context ignores local builds, dependencies and state', () => {
    const ignore = readFileSync(join(here, 'Dockerfile.dockerignore'), 'utf8');
    for (const entry of ['**/node_modules', '**/dist', '.git', 'state']) expect(ignore).toContain(entry);
  });

  it.each(APPS)('compose/%s/docker-compose.yml runs the image as the manual does', (app) => {
    const compose = parseYaml(readFileSync(join(here, 'compose', app, 'docker-compose.yml'), 'utf8'));
    const service = compose.services[`collector-${app}`];
    // The released image by default; IMAGE=localhost/devo-collector-<app> for a local build.
    expect(service.image).toBe(`\${IMAGE:-ghcr.io/devo-collectors/devo-collector-${app}}:\${IMAGE_VERSION:-latest}`);
    expect(service.container_name).toBe(`collector-${app}`);
    expect(service.volumes).toEqual(
      expect.arrayContaining(['./certs:/devo-collector/certs:ro', './config:/devo-collector/config:ro', './state:/devo-collector/state']),
    );
    expect(service.environment).toContain('CONFIG_FILE=${CONFIG_FILE:-config.yaml}');
    expect(service.init).toBe(true);
  });

  it('there is a compose example and an app for each of the five collectors', () => {
    expect(readdirSync(join(here, 'compose')).sort()).toEqual([...APPS].sort());
    const present = readdirSync(join(repo, 'apps'));
    for (const app of APPS) expect(present).toContain(app);
  });
});
