// One simulator a vendor (for AWS, the demo's S3/SQS/STS stand-in where moto is missing), and what they share:
// the seeded generator and the fault API.
export { seededRandom } from './seeded-random.js';
export type { FaultTiming, SimulatorFault, SimulatorFaults } from './faults.js';
export * from './lark/index.js';
export * from './o365/index.js';
export * from './darktrace/index.js';
export * from './proofpoint/index.js';
export * from './aws/index.js';
