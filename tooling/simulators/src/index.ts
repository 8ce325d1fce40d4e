// One simulator a vendor, and what they share: the seeded generator, the fault API and the HTTP plumbing.
export { seededRandom } from './seeded-random.js';
export type { FaultTiming, SimulatorFault, SimulatorFaults } from './faults.js';
export { closeServer, listenOnLoopback, readBody } from './http-server.js';
export * from './lark/index.js';
export * from './o365/index.js';
export * from './darktrace/index.js';
export * from './proofpoint/index.js';
