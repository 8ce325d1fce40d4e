import {
  CollectorError,
  ConfigError,
  InitVariablesError,
  OutputError,
  PersistenceError,
  PullError,
  SetupError,
  type CollectorErrorOptions,
  type CollectorErrorType,
} from './collector-error.js';
import { ERROR_SPECS, type ErrorSpec } from './error-spec.js';

export { ERROR_SPECS, type ErrorSpec } from './error-spec.js';

/** A declared error is an instance of its type's class, so `instanceof SetupError` holds for it too. */
const CLASSES: Partial<Record<CollectorErrorType, new (id: number, message: string, options?: CollectorErrorOptions) => CollectorError>> = {
  InitVariablesError,
  SetupError,
  PullError,
  ConfigError,
  PersistenceError,
  OutputError,
};

/** The `{name}` placeholders of a template, as a union of names. */
type Placeholders<S extends string> = S extends `${string}{${infer Name}}${infer Rest}` ? Name | Placeholders<Rest> : never;

export interface ErrorThrowOptions {
  /** Text appended after a period: what the vendor answered beyond the manual's message. */
  detail?: string | undefined;
  /** Overrides the declared path (e.g. when the same error is about several keys). */
  path?: string | undefined;
  cause?: unknown;
}

type Values<S extends ErrorSpec> = { [K in Placeholders<S['message']> | Placeholders<NonNullable<S['path']>>]: string | number };

/** A constructor per declared error: `errors.startTimeInFuture({ value }, { path })`. */
export type ErrorConstructor<S extends ErrorSpec> = [Placeholders<S['message']> | Placeholders<NonNullable<S['path']>>] extends [never]
  ? (options?: ErrorThrowOptions) => CollectorError
  : (values: Values<S>, options?: ErrorThrowOptions) => CollectorError;

export type ErrorCatalog<T extends Record<string, ErrorSpec>> = { readonly [K in keyof T]: ErrorConstructor<T[K]> } & {
  /** The declarations in declaration order, for `--check` and the README table. */
  readonly [ERROR_SPECS]: readonly ErrorSpec[];
};

function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/**
 * Declares an error table. Duplicate `<Type> <ID>` pairs are a programming error and throw at load time,
 * since operators look errors up by that pair.
 */
export function defineErrors<const T extends Record<string, ErrorSpec>>(specs: T): ErrorCatalog<T> {
  const seen = new Set<string>();
  const catalog: Record<string | symbol, unknown> = { [ERROR_SPECS]: Object.values(specs) };
  for (const [name, spec] of Object.entries(specs)) {
    const key = `${spec.type} ${spec.id}`;
    if (spec.sameIdAs === undefined) {
      if (seen.has(key)) throw new Error(`Error table declares ${key} twice (${name})`);
    } else {
      const first = specs[spec.sameIdAs];
      if (!seen.has(key) || first?.type !== spec.type || first.id !== spec.id) throw new Error(`${name}: sameIdAs ${spec.sameIdAs} is not an earlier ${key}`);
    }
    seen.add(key);
    const hasValues = /\{\w+\}/.test(spec.message + (spec.path ?? ''));
    catalog[name] = (...args: unknown[]) => {
      const values = (hasValues ? args[0] : {}) as Record<string, string | number>;
      const options = ((hasValues ? args[1] : args[0]) ?? {}) as ErrorThrowOptions;
      const message = fill(spec.message, values) + (options.detail ? `. ${options.detail}` : '');
      const path = options.path ?? (spec.path ? fill(spec.path, values) : undefined);
      const errorOptions: CollectorErrorOptions = {
        ...(path ? { path } : {}),
        ...(options.cause === undefined ? {} : { cause: options.cause }),
        retryable: spec.retryable ?? false,
        remedy: spec.remedy,
      };
      const Class = CLASSES[spec.type];
      return Class ? new Class(spec.id, message, errorOptions) : new CollectorError(spec.type, spec.id, message, errorOptions);
    };
  }
  return catalog as ErrorCatalog<T>;
}

/** The declarations of one or more catalogs, in order. */
export function errorSpecs(...catalogs: { readonly [ERROR_SPECS]: readonly ErrorSpec[] }[]): ErrorSpec[] {
  return catalogs.flatMap((c) => [...c[ERROR_SPECS]]);
}

/** The remedy declared for `<Type> <ID>`, if any. */
export function declaredRemedy(specs: readonly ErrorSpec[], type: CollectorErrorType, id: number): string | undefined {
  return specs.find((s) => s.type === type && s.id === id)?.remedy;
}

const escapeCell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The README's error table, rendered from the declarations (type, ID, message, cause, remedy). */
export function renderErrorTable(specs: readonly ErrorSpec[]): string {
  const rows = specs.map((s) => `| ${s.type} | ${s.id} | \`${escapeCell(s.message)}\` | ${escapeCell(s.cause)} | ${escapeCell(s.remedy)}${s.retryable ? ' Retried on the next cycle.' : ''} |`);
  return ['| type | ID | message | cause | remedy |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

export const ERROR_TABLE_BEGIN = '<!-- error-table: generated from the error declarations; edit those, then run `pnpm docs` -->';
export const ERROR_TABLE_END = '<!-- /error-table -->';

/**
 * Replaces the generated block of a README with the rendered table. Returns the new text; throws when the
 * README has no such block, so a package cannot silently drop its table.
 */
export function spliceErrorTable(readme: string, specs: readonly ErrorSpec[]): string {
  const begin = readme.indexOf(ERROR_TABLE_BEGIN);
  const end = readme.indexOf(ERROR_TABLE_END);
  if (begin < 0 || end < begin) throw new Error(`README has no ${ERROR_TABLE_BEGIN} ... ${ERROR_TABLE_END} block`);
  return `${readme.slice(0, begin + ERROR_TABLE_BEGIN.length)}\n${renderErrorTable(specs)}\n${readme.slice(end)}`;
}
