import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadConfig, resolveConfigPath, type CollectorConfig } from '../config/load-config.js';
import { CollectorError, OutputError, PersistenceError, describeError } from '../errors/collector-error.js';
import { DeliveryPipeline } from '../delivery/delivery-pipeline.js';
import { createOutputs } from '../delivery/output-factory.js';
import { attachInternalLogs } from '../delivery/internal-sender.js';
import type { Output } from '../delivery/types.js';
import { HttpClient, type HttpClientOptions } from '../http/http-client.js';
import { describeProxySettings, resolveProxy, type ProxySettings } from '../http/proxy.js';
import { RateLimiter, type RequestsLimit } from '../http/rate-limiter.js';
import { createAckJournal, readOnlyJournal, RedisAckJournal, type AckJournal } from '../persistence/ack-journal.js';
import { createStateStore } from '../persistence/create-store.js';
import { RedisStateStore } from '../persistence/redis-store.js';
import { LEASE_HELD_ERROR, LeaderElection, highAvailabilityOf, leaseStatus } from './high-availability.js';
import { stateKey, type StateStore } from '../persistence/state-store.js';
import { createLogger, logSettings, type Logger } from '../telemetry/logger.js';
import { CollectorMetrics, type MetricsSources, type OutputCounters } from '../telemetry/metrics.js';
import { startHealthServer, type HealthServer, type Readiness } from '../telemetry/health-server.js';
import { readOnlyStateStore } from '../telemetry/read-only-store.js';
import { startOtlpExportFromEnv, type OtlpExport } from '../telemetry/otlp.js';
import type { CollectorDefinition, InputDefinition, InputConfig } from './definitions.js';
import type { ServiceTotals } from './pull-statistics.js';
import { ServiceRunner } from './service-runner.js';
import { sleep } from './abortable-sleep.js';
import { PersistedSharedState } from './shared-state.js';

export interface CollectorOptions {
  /** The directory holding certs/, config/ and state/. Default: the process working directory. */
  workDir?: string;
  /** The config file; default per CONVENTIONS.md (`--config`, `CONFIG_FILE`, `config/config.yaml`). */
  configFile?: string;
  /** A config object instead of a file (library use and tests). */
  config?: unknown;
  /** Outputs of your own, used beside (or, when the config has no `outputs`, instead of) the configured ones. */
  outputs?: Output[];
  /** Where log lines go (default stdout). */
  logStream?: NodeJS.WritableStream;
  logger?: Logger;
  /** HTTP client settings for every input (tests shorten the back-off). */
  http?: Pick<HttpClientOptions, 'backoffBaseMs' | 'maxBackoffMs' | 'timeoutMs'>;
  /** `--check` and `--show-state`: state is read, never written (saves are dropped). */
  readOnlyState?: boolean;
  /** `--start-at`: where services without a checkpoint start (minus their look-back) instead of their configured start. */
  startAt?: Date;
}

/** The outcome of `runOnce`. */
export interface RunSummary {
  services: ServiceTotals[];
  errors: string[];
  ok: boolean;
}

interface InputRuntime {
  definition: InputDefinition;
  config: InputConfig;
  runners: ServiceRunner[];
  sharedState: PersistedSharedState;
  /** Request pools of the input by name (the budget gauges read them). */
  limiters: Record<string, RateLimiter>;
}

/** The shared client of one input: setup runs once, and again after a failure. */
class InputClient {
  private current: Promise<unknown> | undefined;
  constructor(private readonly setup: () => Promise<unknown>) {}
  get(): Promise<unknown> {
    if (!this.current) {
      const attempt = this.setup();
      this.current = attempt;
      attempt.catch(() => {
        if (this.current === attempt) this.current = undefined;
      });
    }
    return this.current;
  }
}

function pascal(name: string): string {
  return name.replace(/(^|[_-])([a-z0-9])/g, (_m, _s, c: string) => c.toUpperCase());
}

/**
 * One collector process: config → outputs → inputs → services. `runOnce` pulls every service until caught
 * up; `run` keeps pulling until `stop`.
 */
export class CollectorRuntime {
  readonly config: CollectorConfig;
  readonly log: Logger;
  readonly store: StateStore;
  /** The keys of acknowledged events between state saves (see AckJournal). */
  readonly journal: AckJournal;
  readonly delivery: DeliveryPipeline;
  readonly inputs: InputRuntime[] = [];
  private readonly abort = new AbortController();
  private detachInternal: (() => void) | undefined;
  private started = false;
  private loops: Promise<void>[] = [];
  private setupDone = new Set<string>();
  /** Prometheus metrics of this runtime (its own registry), served on `/metrics`. */
  readonly metrics: CollectorMetrics;
  private healthServer: HealthServer | undefined;
  private otlp: OtlpExport | undefined;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY or `globals.proxy`, for every input's HTTP client. */
  readonly proxy: ProxySettings | undefined;
  /** `globals.high_availability`: the lease this replica leads or waits for (undefined when off). */
  readonly election: LeaderElection | undefined;
  /** Why this replica stopped leading (set once the lease was lost). */
  private leaseLost: PersistenceError | undefined;
  /** `--show-state`: the lease and who last wrote each state (high availability with Redis only). */
  readonly highAvailabilityStatus: () => Promise<Record<string, unknown> | undefined>;
  /** The stop requested by a signal or `stop()` (bounded by stop_timeout_seconds). */
  private stopping: Promise<void> | undefined;
  /** The end of delivery and the stores, once (by a stop, or at the end of `runOnce`). */
  private closing: Promise<void> | undefined;

  constructor(
    readonly definition: CollectorDefinition,
    private readonly options: CollectorOptions = {},
  ) {
    const workDir = options.workDir ?? process.cwd();
    const file = options.config === undefined ? resolveConfigPath(options.configFile, workDir) : '<inline config>';
    const raw = options.config === undefined ? undefined : structuredClone(options.config);
    this.config = loadConfig(definition, file, { workDir, raw, externalOutputs: (options.outputs?.length ?? 0) > 0 });
    const logging = logSettings(this.config.globals);
    this.log = options.logger ?? createLogger({ level: logging.level, json: logging.json, stream: options.logStream });
    for (const warning of [...logging.warnings, ...this.config.warnings]) this.log.warning(warning);
    this.proxy = resolveProxy(this.config.globals.proxy);
    if (this.proxy) this.log.info(describeProxySettings(this.proxy));
    const ha = highAvailabilityOf(this.config, definition, this.log);
    const store = createStateStore(this.config.globals, workDir);
    this.store = options.readOnlyState ? readOnlyStateStore(store) : store;
    // --check and --show-state never take part in the election: they write nothing anyway.
    if (ha && store instanceof RedisStateStore && !options.readOnlyState) {
      this.election = new LeaderElection(store, ha, this.log.child({ process: 'MainProcess', module: 'HighAvailability' }));
    }
    this.highAvailabilityStatus = async () => (ha && store instanceof RedisStateStore ? leaseStatus(store) : undefined);
    const election = this.election;
    const journal = createAckJournal(this.config.globals, workDir);
    // The journal lives in the same Redis as the state: a replica that lost the lease journals nothing either.
    if (election && journal instanceof RedisAckJournal) journal.fenceWith(() => election.lease.current());
    this.journal = options.readOnlyState ? readOnlyJournal(journal) : journal;
    const outputs = [
      ...createOutputs(this.config.outputs, { workDir, log: this.log.child({ process: 'OutputProcess' }), hostname: hostname(), globals: this.config.globals }),
      ...(options.outputs ?? []),
    ].map((output) => (election ? election.fenceOutput(output) : output));
    // With high availability nothing may be acknowledged from a local spool: it would move the shared
    // checkpoint past events only this replica's disk holds, and a failover would lose them.
    const durableSource = definition.durableSource === true || election !== undefined;
    this.delivery = new DeliveryPipeline(outputs, {
      maxMessages: this.config.globals.queue_max_size_in_messages,
      maxBytes: this.config.globals.queue_max_size_in_mb * 1024 * 1024,
      batchSize: this.config.globals.delivery_batch_max_messages,
      // Emergency persistence lives under state/ whatever the persistence type (delivery owns the files). A
      // durable source (SQS) keeps its own copy until acknowledged: no local spool may acknowledge for it.
      emergencyDir: durableSource ? undefined : join(workDir, String(this.config.globals.persistence.config['directory_name'] ?? 'state'), 'delivery'),
      statsPeriodMs: this.config.globals.sender_stats_period_in_sec * 1000,
      spillAfterMs: durableSource ? 0 : Number(this.config.globals['emergency_persistence_after_seconds'] ?? 60) * 1000,
      log: this.log.child({ process: 'OutputProcess', module: 'SenderManager' }),
    });
    this.metrics = new CollectorMetrics({ collector: this.config.globals.name, version: definition.version });
    this.election?.registerMetrics(this.metrics.registry);
    this.buildInputs();
    this.metrics.observe(this.metricsSources());
  }

  /** `--start-at`, when given. */
  get startAt(): Date | undefined {
    return this.options.startAt;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  private buildInputs(): void {
    const { globals } = this.config;
    for (const definition of this.definition.inputs) {
      const config = this.config.inputs[definition.name];
      if (!config || config.enabled === false) continue;
      const inputState = new PersistedSharedState(this.store, stateKey(definition.name, config.id, '__input__'));
      const limiters = this.limiters(definition, config, inputState);
      const defaults = Object.keys(definition.services).filter((s) => definition.services[s]?.optIn !== true);
      const configured = config.services ?? Object.fromEntries(defaults.map((s) => [s, {}]));
      const runners: ServiceRunner[] = [];
      let client: InputClient | undefined;
      for (const [serviceName, rawOptions] of Object.entries(configured)) {
        const service = definition.services[serviceName];
        const path = `inputs.${definition.name}.services.${serviceName}`;
        // loadConfig rejected unknown names and renamed aliases, so every name here is a service.
        if (!service) throw new Error(`BUG: service <${path}> passed validation but is not defined`);
        const options = (rawOptions ?? {}) as Record<string, unknown>;
        const module = `${service.moduleName ?? `${pascal(definition.name)}Puller`}(${definition.name},${config.id},${serviceName},predefined)`;
        const log = this.log.child({ process: 'InputProcess', module, inputName: definition.name, serviceName });
        const listeners: (() => void)[] = [];
        const serviceMetrics = this.metrics.service(definition.name, serviceName);
        const http = new HttpClient({
          ...this.options.http,
          allowInsecureHttp: config['allow_insecure_http'] === true,
          proxy: this.proxy,
          limiters,
          log,
          signal: this.abort.signal,
          observer: {
            ...serviceMetrics.http,
            onResponse: (status, durationMs, pool) => {
              listeners.forEach((l) => l());
              serviceMetrics.http.onResponse?.(status, durationMs, pool);
            },
          },
        });
        const setupLog = this.log.child({
          process: 'InputProcess',
          module: `${definition.setupModuleName ?? `${pascal(definition.name)}PullerSetup`}(${globals.name},${definition.name}#${config.id},${serviceName}#predefined)`,
          inputName: definition.name,
          serviceName,
        });
        client ??= new InputClient(async () => {
          setupLog.info('Starting the setup');
          const built = await definition.setup({
            inputName: definition.name,
            inputId: config.id,
            input: config,
            credentials: (config.credentials ?? {}) as Record<string, unknown>,
            log: setupLog,
            http,
            signal: this.abort.signal,
          });
          setupLog.info(`Setup for module <${service.moduleName ?? pascal(definition.name)}> has been successfully executed`);
          this.setupDone.add(definition.name);
          return built;
        });
        runners.push(
          new ServiceRunner({
            collectorName: globals.name,
            inputName: definition.name,
            inputId: config.id,
            serviceName,
            definition: service as never,
            input: config,
            options,
            path,
            log,
            http,
            store: this.store,
            journal: this.journal,
            delivery: this.election ? this.election.fenceDelivery(this.delivery) : this.delivery,
            client: client,
            signal: this.abort.signal,
            environment: config['environment'] as string | undefined,
            onRequestCounted: (l) => listeners.push(l),
            metrics: serviceMetrics,
            startAt: this.options.startAt,
            batchMessages: globals.delivery_batch_max_messages,
          }),
        );
      }
      this.inputs.push({ definition, config, runners, sharedState: inputState, limiters });
    }
  }

  private limiters(definition: InputDefinition, config: InputConfig, state: PersistedSharedState): Record<string, RateLimiter> {
    const pools: Record<string, readonly RequestsLimit[]> = {
      default: config.requests_limits ?? this.config.globals.requests_limits ?? definition.requestsLimits ?? [],
      ...(definition.requestPools ?? {}),
      ...((config['requests_pools'] as Record<string, RequestsLimit[]> | undefined) ?? {}),
    };
    const limiters: Record<string, RateLimiter> = {};
    for (const [pool, limits] of Object.entries(pools)) {
      const key = `requests:${pool}`;
      limiters[pool] = new RateLimiter(limits, {
        load: () => (state.get<number[]>(key) ?? []).filter((t) => typeof t === 'number'),
        save: async (timestamps) => {
          state.set(key, [...timestamps]);
          await state.flush();
        },
      });
    }
    return limiters;
  }

  get runners(): ServiceRunner[] {
    return this.inputs.flatMap((i) => i.runners);
  }

  /** Validates every service's options (`--validate`): no network, no state. */
  async validate(): Promise<void> {
    this.log.info('Validating service input config');
    for (const runner of this.runners) {
      try {
        await runner.init();
      } catch (error) {
        // Whatever type the vendor's manual gives it (Proofpoint: SetupError 101 for a bad start time), a
        // failure of the options' validation is a config error: exit code 2.
        if (error instanceof Error) raisedByInit.add(error);
        throw error;
      }
    }
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.startHealthServer();
    // OTLP export of the same metrics when OTEL_EXPORTER_OTLP_* asks for it (OpenTelemetry is loaded only then).
    this.otlp = await startOtlpExportFromEnv({
      metrics: this.metrics,
      log: this.log.child({ process: 'MainProcess', module: 'OtlpExporter' }),
      serviceName: this.config.globals.name,
      serviceVersion: this.definition.version,
    });
    this.log.info(`${this.definition.name} ${this.definition.version} starting (node ${process.version}, pid ${process.pid})`);
    await this.validate();
    for (const input of this.inputs) await input.sharedState.load();
    await this.delivery.start();
    this.detachInternal = attachInternalLogs(this.delivery, {
      collectorName: this.config.globals.name,
      collectorVersion: this.definition.version,
      collectorImage: process.env['COLLECTOR_IMAGE'] || null,
      jobId: this.config.globals.id,
    });
  }

  /** `--once`: every enabled service pulls until caught up, everything is delivered and saved. */
  async runOnce(): Promise<RunSummary> {
    const errors: string[] = [];
    const refusal = this.watchRefusal();
    try {
      if (this.election && !(await this.election.tryLead())) {
        const holder = await this.election.holder().catch(() => undefined);
        throw new PersistenceError(
          LEASE_HELD_ERROR,
          `--once does not run beside the leader: the high-availability lease is held by ${holder ? `${holder.holder} (token ${holder.token})` : 'another replica'}`,
        );
      }
      await this.start();
      this.loops = this.runners.map(async (runner) => {
        try {
          await runner.prePull();
          await runner.pullOnce();
        } catch (error) {
          runner.recordError(error);
          // The refusal is reported once below; a stop interrupts pulls on purpose.
          if (refusal.error) return;
          if (this.stopRequested) {
            this.log.warning(`Interrupted by the stop: ${describeError(error)}; the next run resumes from the last checkpoint`);
            return;
          }
          errors.push(describeError(error));
          this.log.error(describeError(error, this.log.debugEnabled));
        }
      });
      await Promise.all(this.loops);
      if (!this.abort.signal.aborted) {
        await this.delivery.flush();
        // --once promises everything delivered: events spilled to the emergency persistence while an output
        // was down are acknowledged for the pullers, but not delivered yet. Wait for the output to take them.
        const patienceMs = Number(this.config.globals['once_delivery_timeout_seconds'] ?? 300) * 1000;
        if (!(await this.delivery.drain(patienceMs, patienceMs)) && !this.abort.signal.aborted) {
          const kept = this.delivery.outputs.reduce((n, o) => n + this.delivery.spooledFor(o.name).messages, 0);
          const error = new OutputError(
            611,
            `${kept} event(s) could not be delivered within once_delivery_timeout_seconds (${patienceMs / 1000} s): they are kept in the emergency persistence and sent first at the next start`,
            { path: 'globals.once_delivery_timeout_seconds' },
          );
          errors.push(describeError(error));
          this.log.error(describeError(error));
        }
      }
    } finally {
      refusal.stop();
      if (refusal.error) errors.push(describeError(refusal.error));
      await (this.stopping ?? this.shutdown());
    }
    return { services: this.runners.map((r) => ({ ...r.totals })), errors, ok: errors.length === 0 };
  }

  /**
   * `--once` only: once an output has refused us (client certificate rejected, server not trusted, name
   * mismatch) for `once_refused_timeout_seconds`, give up: one ERROR line with the remedy, the pulls are
   * stopped and everything unacknowledged fails (nothing is committed past it, nothing is spooled: the next
   * run pulls it again), exit 1. Retrying does not fix a certificate; a cron job must end.
   */
  private watchRefusal(): { readonly error: OutputError | undefined; stop(): void } {
    const limitMs = Number(this.config.globals['once_refused_timeout_seconds'] ?? 20) * 1000;
    const watch = { error: undefined as OutputError | undefined, stop: () => clearInterval(timer) };
    const timer = setInterval(() => {
      const refused = this.delivery.refusal();
      if (!refused || refused.forMs < limitMs || watch.error || this.abort.signal.aborted) return;
      clearInterval(timer);
      const error = new OutputError(
        refused.error.id,
        `${refused.error.message}; --once gives up after ${limitMs / 1000} s of refusals (once_refused_timeout_seconds). ${refused.error.remedy ?? ''} Nothing was committed past the undelivered events: the next run sends them`,
        { path: 'globals.once_refused_timeout_seconds' },
      );
      watch.error = error;
      this.log.error(describeError(error));
      this.abort.abort();
      void this.delivery.stop({ abandon: error });
    }, Math.min(250, Math.max(10, limitMs / 4)));
    timer.unref();
    return watch;
  }

  /** Pulls on every service's schedule until `stop()`. */
  async run(): Promise<void> {
    if (this.election) {
      await this.startHealthServer(); // a standby answers /ready (503, standby) while it waits
      if (!(await this.election.waitForLeadership(this.abort.signal))) return; // stopped while standby: stop() shuts down
      void this.election.lost.then((error) => this.loseLeadership(error));
    }
    await this.start();
    this.loops = this.runners.map(async (runner) => {
      while (!this.abort.signal.aborted) {
        try {
          runner.totals.cycles === 0 && this.log.warning('Waiting until setup will be executed');
          await runner.prePull();
          break;
        } catch (error) {
          runner.recordError(error);
          this.log.error(`${describeError(error, this.log.debugEnabled)}. Retrying pre_pull in 60 second(s)`);
          // Abortable, and it keeps the process alive: a daemon waiting to retry must not just end.
          await sleep(60_000, this.abort.signal);
        }
      }
      if (!this.abort.signal.aborted) await runner.loop();
    });
    await Promise.all(this.loops);
    if (this.leaseLost) {
      await this.shutdown();
      throw this.leaseLost;
    }
    // The stop that ended the loops is still spooling and saving: run() returns once it is done.
    await this.stopping;
  }

  /**
   * The lease is gone (the fence already refuses every send and write): stop pulling at once and drop what
   * is queued without sending it. The new leader pulls it again from the shared checkpoint.
   */
  private async loseLeadership(error: PersistenceError): Promise<void> {
    if (this.abort.signal.aborted) return;
    this.leaseLost = error; // run() throws it once everything stopped
    this.log.warning('Lost the high-availability lease: stopping at once; queued events are dropped unsent (the leader pulls them again)');
    this.abort.abort();
    await this.delivery.stop({ abandon: error });
  }

  /** A stop was requested (signal or library call), as opposed to a run that ended by itself. */
  get stopRequested(): boolean {
    return this.stopping !== undefined;
  }

  /**
   * Graceful stop within `stop_timeout_seconds` (10 s), whatever the outputs do: the pulls are aborted,
   * writes in flight get part of the budget to be acknowledged, what is still unacknowledged goes to the
   * emergency persistence (acknowledged there, so the runners commit) or is pulled again, the state is
   * saved, the stores are closed.
   */
  stop(): Promise<void> {
    // A run that already ended by itself has nothing left to stop.
    this.stopping ??= this.closing ?? this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const budgetMs = Number(this.config.globals['stop_timeout_seconds'] ?? 10) * 1000;
    const deadline = Date.now() + budgetMs;
    this.log.info(`Stop requested: finishing the current batch, flushing and saving (within stop_timeout_seconds, ${budgetMs / 1000} s)`);
    this.abort.abort();
    // Runners commit only after their events are acknowledged. Up to half the budget for that, and no
    // more than a second once an output is failing: then the emergency persistence acknowledges instead.
    const loopsDone = Promise.allSettled(this.loops);
    await Promise.race([loopsDone, this.delivery.drain(budgetMs / 2, 1_000)]);
    await this.shutdown(deadline);
  }

  /** Ends delivery (spooling what is left), lets the runners save, closes the stores; by `deadline` when given. */
  private shutdown(deadline?: number): Promise<void> {
    this.closing ??= this.close(deadline);
    return this.closing;
  }

  private async close(deadline: number | undefined): Promise<void> {
    this.abort.abort();
    const left = () => (deadline === undefined ? 30_000 : Math.max(0, deadline - Date.now()));
    const flushed = await this.delivery.drain(left() / 2, deadline === undefined ? 3_000 : 1_000);
    if (!flushed) this.log.warning('Some events were not acknowledged before stopping; they go to the emergency persistence (or are pulled again)');
    this.detachInternal?.();
    await this.delivery.stop({ budgetMs: Math.max(100, left() * 0.6) });
    // The spool acknowledged the rest: the runners commit and save their state now.
    await Promise.race([Promise.allSettled(this.loops), unrefSleep(Math.max(100, left() - 200))]);
    await this.election?.release();
    await this.store.close();
    await this.journal.close();
    await this.healthServer?.close();
    this.healthServer = undefined;
    await this.otlp?.shutdown(); // the final values, after the queue drained
    this.otlp = undefined;
  }

  /** Ready: every input finished setup and every output is connected (`/ready`). */
  ready(): boolean {
    if (this.election && !this.election.leading()) return false;
    return this.inputs.every((i) => this.setupDone.has(i.definition.name)) && this.delivery.ready();
  }

  /** `/ready` with the detail: which inputs finished setup, which outputs are connected. */
  readiness(): Readiness {
    const inputs = Object.fromEntries(this.inputs.map((i) => [i.definition.name, this.setupDone.has(i.definition.name)]));
    const outputs = Object.fromEntries(this.delivery.outputs.map((o) => [o.name, o.ready()]));
    return { ready: this.ready(), inputs, outputs, ...(this.election ? { role: this.election.role } : {}) };
  }

  /** The `/metrics`, `/health`, `/ready` server while `run()`/`runOnce()` runs (undefined when off or the port was taken). */
  get httpServer(): HealthServer | undefined {
    return this.healthServer;
  }

  private async startHealthServer(): Promise<void> {
    const { enabled, address, port } = this.config.globals.http_server;
    if (!enabled || this.healthServer) return;
    this.healthServer = await startHealthServer({
      address,
      port,
      log: this.log.child({ process: 'MainProcess', module: 'HttpServer' }),
      sources: { readiness: () => this.readiness(), metrics: () => this.metrics.text(), metricsContentType: this.metrics.contentType },
    });
  }

  private metricsSources(): MetricsSources {
    return {
      services: () =>
        this.runners.map((r) => ({ input: r.totals.input, service: r.totals.service, cycles: r.totals.cycles, lastSuccess: r.totals.lastSuccess, checkpointTime: r.checkpointTime })),
      budgets: () =>
        this.inputs.flatMap((i) => Object.entries(i.limiters).map(([pool, limiter]) => ({ input: i.definition.name, pool, remaining: limiter.remaining() }))),
      queue: () => this.delivery.queueSize,
      outputs: () =>
        this.delivery.outputs.map((o) => ({ name: o.name, type: o.type, ready: o.ready(), counters: (o as { counters?: OutputCounters }).counters, spooled: this.delivery.spooledFor(o.name) })),
      ready: () => this.ready(),
    };
  }

  totals(): ServiceTotals[] {
    return this.runners.map((r) => ({ ...r.totals }));
  }
}

/** A wait that does not keep the process alive by itself (the stop's own bounds). */
function unrefSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

const raisedByInit = new WeakSet<Error>();

/** A bad config or usage (exit code 2), as opposed to a runtime failure (exit code 1). */
export function isConfigError(error: unknown): boolean {
  if (error instanceof Error && raisedByInit.has(error)) return true;
  return error instanceof CollectorError && (error.type === 'ConfigError' || error.type === 'InitVariablesError' || error.type === 'UsageError');
}
