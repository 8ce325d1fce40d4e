// Real peers for tests. Each module starts a real process on a free loopback port and stops it again.
// And the one registry of the collectors (vendors.ts) the tooling derives its lists from.
export * from './vendors.js';
export * from './free-port.js';
export * from './pki.js';
export * from './rsyslog.js';
export * from './moto.js';
export * from './redis.js';
export * from './received-line.js';
export * from './syslog-frames.js';
export * from './syslog-receiver.js';
export * from './capturing-output.js';
export * from './wait-until.js';
export * from './tinyproxy.js';
export * from './tls-front.js';
export * from './otlp-receiver.js';
export { appMain, ensureBuilt, REPO_ROOT } from './built-app.js';
export { captureCli, type CapturedCli } from './capture-cli.js';
export { logLineShape, missingLogLines } from './log-shapes.js';
export { cliHelp, cliMistake, parseCli, readCli, type CliOption, type CliReading, type CliSpec, type CliValues } from './cli.js';
