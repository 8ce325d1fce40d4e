// The demo's building blocks, reused by its tests and by tooling/docker/smoke.mjs.
export { scenarios, ScenarioSkipped, type DemoScenario, type StartedScenario } from './scenarios.js';
export { runDemo, type DemoOptions, type DemoResult, type CollectorResult, type TagResult } from './run-demo.js';
export { renderProgress, renderSummary, formatLag, type CollectorProgress } from './render.js';
