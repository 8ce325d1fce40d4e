// One simulator a vendor; each folder is owned by that vendor's package.
export * from './lark/index.js';
export * from './o365/index.js';
export * from './darktrace/index.js';
export * from './proofpoint/index.js';
