// One simulator a vendor, and the seeded generator they share.
export { seededRandom } from './seeded-random.js';
export * from './lark/index.js';
export * from './o365/index.js';
export * from './darktrace/index.js';
export * from './proofpoint/index.js';
