import { PassThrough } from 'node:stream';

/** What a collector's command line printed: its exit code, log lines and standard output. */
export interface CapturedCli {
  code: number;
  /** The log lines (the log stream). */
  text: string;
  stdout: string;
}

/**
 * Runs a collector's command line in-process (`run` calls `runCollector` with the streams it is given) and
 * collects what it printed, for tests that follow the README through the CLI.
 */
export async function captureCli(run: (io: { logStream: PassThrough; stdout: PassThrough }) => Promise<number>): Promise<CapturedCli> {
  const logStream = new PassThrough();
  const stdout = new PassThrough();
  let text = '';
  let out = '';
  logStream.on('data', (d: Buffer) => (text += d.toString()));
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await run({ logStream, stdout });
  return { code, text, stdout: out };
}
