// The AWS bench's receiver: a TLS syslog sink (client certificate required, as Devo's relay) that counts the
// Devo lines carrying one tag, exactly, on every connection it accepts. The collector's own log lines (the
// SDK's internal sender) go to other tags and are not counted. Reports to the parent over IPC on request:
// `{ events, bytes, cpuSeconds }` (its own CPU, so the bench can say what the receiving side cost).
// Usage (forked): counting-sink.mjs <ca> <cert> <key> <tag>
import { readFileSync } from 'node:fs';
import { createServer } from 'node:tls';

const [ca, cert, key, tag] = process.argv.slice(2);
const LF = 10;
/** A Devo line is `<14>YYYY-MM-DD HH:MM:SS.mmm host tag: message`; the tag ends before the first `: `. */
const needle = Buffer.from(` ${tag}: `);
/** The tag sits in the first bytes of a line (header + hostname): looked for there only. */
const HEAD = 512;
let events = 0;
let bytes = 0;

function counts(line) {
  const at = line.indexOf(needle);
  return at !== -1 && at < HEAD;
}

const server = createServer({ ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key), requestCert: true, rejectUnauthorized: true }, (socket) => {
  // The start of a line cut by the end of a chunk (at most HEAD bytes of it: enough to see its tag).
  let partial = null;
  socket.on('data', (chunk) => {
    bytes += chunk.length;
    let start = 0;
    if (partial) {
      const nl = chunk.indexOf(LF);
      if (nl === -1) {
        if (partial.length < HEAD) partial = Buffer.concat([partial, chunk.subarray(0, HEAD - partial.length)]);
        return;
      }
      if (counts(Buffer.concat([partial, chunk.subarray(0, Math.min(nl, HEAD))]))) events++;
      partial = null;
      start = nl + 1;
    }
    // The next tag in the chunk, found once for the lines before it (a chunk of other lines is one search).
    let at = -1;
    for (;;) {
      const nl = chunk.indexOf(LF, start);
      if (nl === -1) break;
      if (at !== Infinity && at < start) {
        at = chunk.indexOf(needle, start);
        if (at === -1) at = Infinity;
      }
      if (at < nl && at - start < HEAD) events++;
      start = nl + 1;
    }
    if (start < chunk.length) partial = Buffer.from(chunk.subarray(start, Math.min(chunk.length, start + HEAD)));
  });
  socket.on('error', () => undefined);
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (m) => {
  if (m === 'stop') process.exit(0);
  if (m === 'count') {
    const cpu = process.cpuUsage();
    process.send({ events, bytes, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  }
});
