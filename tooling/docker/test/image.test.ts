import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The real thing: `pnpm images --only lark` builds the local stand-in base (first time only), builds the
// Lark image from tooling/docker/Dockerfile with podman, and smoke.mjs runs it against a TLS receiver:
// `--once` must deliver every simulator event, the HEALTHCHECK must pass, SIGTERM must exit 0.
// Needs root (apt installs, the state volume handed to uid 1000); build-images.sh installs podman, buildah,
// runc and debootstrap with apt when they are missing (.ci/run installs them up front).
const repo = fileURLToPath(new URL('../../../', import.meta.url));

describe('collector image (podman)', () => {
  it('pnpm images --only lark: builds, delivers every event over TLS, passes its health check, stops on SIGTERM', async () => {
    if (process.getuid?.() !== 0) throw new Error('the image test runs as root: it apt-installs podman, buildah, runc, debootstrap when missing and chowns the state volume to uid 1000');
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile('bash', ['tooling/docker/build-images.sh', '--only', 'lark'], { cwd: repo, maxBuffer: 32 * 1024 * 1024, timeout: 840_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
      );
    });
    expect(output, output).toMatch(/built localhost\/devo-collector-lark:\d+\.\d+\.\d+/);
    expect(output).toMatch(/smoke:\s+app\.lark\.audit\.event: expected (\d+), arrived \1/);
    expect(output).toMatch(/devo-collector-lark:\S+: node v24\.\d+\.\d+/);
    expect(output).toContain('the image HEALTHCHECK (node probing /health) passes');
    expect(output).toMatch(/podman stop \(SIGTERM\) -> exit code 0/);
    expect(output).toContain('smoke: OK');
    expect(code).toBe(0);
  }, 900_000);
});
