import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';

/** One line describing the machine, OS, Node and load: every report starts with it. */
export function machineDescription(): { cpu: string; os: string; node: string; memory: string; load: string } {
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const names = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
    if (names) model = names[1]!.trim();
  } catch {
    // not Linux: os.cpus() is enough
  }
  let os = `Linux ${release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (pretty) os = `${pretty[1]}, kernel ${release()}`;
  } catch {
    // keep the kernel release
  }
  return {
    cpu: `${cpus().length} × ${model}`,
    os,
    node: process.version,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    load: loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}
