// A connection balancer in front of several rsyslog listeners, as a Devo relay sits behind a TCP load
// balancer: the kernel rewrites the destination port of each NEW connection to the front port (iptables
// nat OUTPUT, DNAT, round-robin by the `statistic` match in `nth` mode), so consecutive connections land on
// consecutive listeners and no process copies the bytes (a user-space proxy would spend the CPU the
// benchmark measures). Needs root and iptables; loopback only; the rules name this process and are removed
// on stop() and when the process exits, and rules left by a bench that was killed are removed at the next start
// (a leftover rule would divert connections of whatever binds that port later).
import { execFileSync } from 'node:child_process';

const COMMENT = 'delivery-bench-pid-';

/** Removes the rules of benches that are no longer running. */
function removeStaleRules(): void {
  const listing = execFileSync('iptables', ['-t', 'nat', '-S', 'OUTPUT'], { encoding: 'utf8' });
  for (const line of listing.split('\n')) {
    const pid = new RegExp(`--comment ${COMMENT}(\\d+)`).exec(line)?.[1];
    if (!pid || alive(Number(pid))) continue;
    execFileSync('iptables', ['-t', 'nat', '-D', ...line.trim().split(/\s+/).slice(1)], { stdio: 'pipe' });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Why the balancer cannot run here, or undefined when it can. */
export function balancerUnavailable(): string | undefined {
  try {
    execFileSync('iptables', ['-t', 'nat', '-S', 'OUTPUT'], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `iptables (nat table) is not usable: ${(err as Error).message.split('\n')[0]}`;
  }
}

/**
 * Spreads new connections to 127.0.0.1:`backends[0]` round-robin over every port of `backends` (any k
 * consecutive connections reach k different listeners for k ≤ backends.length). Returns the undo.
 */
export function startBalancer(backends: number[]): () => void {
  const front = backends[0]!;
  // Rule i sees the connections the rules before it let through: every (n - i)-th of them goes to backend i + 1
  // (n = backends.length); what passes every rule stays on the front port.
  const rules = backends.slice(1).map((port, i) => [
    '-o', 'lo', '-p', 'tcp', '-d', '127.0.0.1', '--dport', String(front),
    '-m', 'statistic', '--mode', 'nth', '--every', String(backends.length - i), '--packet', '0',
    '-m', 'comment', '--comment', `${COMMENT}${process.pid}`,
    '-j', 'DNAT', '--to-destination', `127.0.0.1:${port}`,
  ]);
  removeStaleRules();
  const added: string[][] = [];
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', stop);
    for (const rule of added.reverse()) execFileSync('iptables', ['-t', 'nat', '-D', 'OUTPUT', ...rule], { stdio: 'pipe' });
  };
  process.once('exit', stop);
  try {
    for (const rule of rules) {
      execFileSync('iptables', ['-t', 'nat', '-A', 'OUTPUT', ...rule], { stdio: 'pipe' });
      added.push(rule);
    }
  } catch (err) {
    stop();
    throw err;
  }
  return stop;
}
