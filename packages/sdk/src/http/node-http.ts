import { createRequire } from 'node:module';

/**
 * `node:http` loaded with require(), not `import`: an ES import of a built-in builds its namespace from every
 * export, and node:http's `WebSocket`, `CloseEvent` and `MessageEvent` are getters that load Node's bundled
 * undici (its HTTP parser compiled as WebAssembly): +11.5 MiB of resident memory on Node 24 for nothing a
 * collector uses (docs/benchmarks.md, "Issue 20: memory, wave 5"). require() reads only
 * the properties the code asks for. Types still come from `import type`.
 */
export const nodeHttp = createRequire(import.meta.url)('node:http') as typeof import('node:http');
