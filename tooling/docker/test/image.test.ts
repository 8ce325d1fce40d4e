import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The real thing: `pnpm images --only lark` builds the local stand-in base (first time only), builds the
// Lark image from tooling/docker/Dockerfile with podman, and smoke.mjs runs it against a TLS receiver:
// `--once` must deliver every simulator event, the HEALTHCHECK must pass, SIGTERM must exit 0.
// Needs podman, buildah, runc and debootstrap (apt) and root; skipped where podman is not installed.
const repo = fileURLToPath(new URL('../../../', import.meta.url));

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
// COLLECTOR_SKIP_IMAGE_TEST=1 skips it (it takes 1.5-3 minutes on 2 cores).
const canBuild = has('podman') && has('buildah') && process.getuid?.() === 0 && process.env['COLLECTOR_SKIP_IMAGE_TEST'] !== '1';

describe.skipIf(!canBuild)('collector image (podman)', () => {
  it('pnpm images --only lark: builds, delivers every event over TLS, passes its health check, stops on SIGTERM', async () => {
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile('bash', ['tooling/docker/build-images.sh', '--only', 'lark'], { cwd: repo, maxBuffer: 32 * 1024 * 1024, timeout: 840_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
      );
    });
    expect(output, output).toMatch(/built localhost\/devo-collector-lark:\d+\.\d+\.\d+/);
    expect(output).toMatch(/smoke:\s+app\.lark\.audit\.event: expected (\d+), arrived \1/);
    expect(output).toContain('the image HEALTHCHECK (node probing /health) passes');
    expect(output).toMatch(/podman stop \(SIGTERM\) -> exit code 0/);
    expect(output).toContain('smoke: OK');
    expect(code).toBe(0);
  }, 900_000);
});
