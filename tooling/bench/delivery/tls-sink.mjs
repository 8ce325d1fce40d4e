// A minimal TLS syslog sink for the delivery benchmark: requires a client certificate signed by the CA,
// discards what it reads and reports the running byte total to the parent over IPC.
// Usage (forked): tls-sink.mjs <ca> <cert> <key>
import { readFileSync } from 'node:fs';
import { createServer } from 'node:tls';

const [ca, cert, key] = process.argv.slice(2);
let total = 0;
const server = createServer({ ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key), requestCert: true, rejectUnauthorized: true }, (socket) => {
  socket.on('data', (chunk) => {
    total += chunk.length;
  });
  socket.on('error', () => undefined);
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
setInterval(() => process.send({ total }), 10);
process.on('message', (m) => m === 'stop' && process.exit(0));
