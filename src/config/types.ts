import type { CompiledPolicy } from '../policy/types.js';

export type KeysSource =
  | { readonly kind: 'auto' }
  | { readonly kind: 'upstream' }
  | { readonly kind: 'tuf' }
  | { readonly kind: 'none' }
  | { readonly kind: 'file'; readonly path: string };

export interface UpstreamConfig {
  readonly name: string;
  /** Base URL, always ending with `/`. */
  readonly url: string;
  /** scheme://host:port — the only place tarballs for this upstream are fetched from. */
  readonly origin: string;
  readonly keys: KeysSource;
  readonly token: string | undefined;
  readonly connections: number;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyIdleTimeoutMs: number;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The validated, resolved, deep-frozen configuration. Units are in the names (Ms, bytes). */
export interface Config {
  /** The file it came from, for messages. */
  readonly source: string;
  readonly server: {
    readonly host: string;
    readonly port: number;
    /** Base URL ending with `/`, or undefined to derive it from each request. */
    readonly publicUrl: string | undefined;
    readonly trustProxy: boolean;
    /** Absolute path. */
    readonly dataDir: string;
    readonly shutdownGraceMs: number;
    readonly maxRequestBodyBytes: number;
    readonly requestTimeoutMs: number;
  };
  readonly log: { readonly level: LogLevel };
  readonly upstreams: ReadonlyMap<string, UpstreamConfig>;
  readonly policy: CompiledPolicy;
  readonly packuments: {
    readonly maxAgeMs: number;
    readonly staleIfErrorMs: number;
    readonly memoryCacheBytes: number;
    readonly maxSizeBytes: number;
    readonly clientMaxAgeMs: number;
  };
  readonly tarballs: {
    readonly maxSizeBytes: number;
    readonly memoryCacheBytes: number;
    readonly diskCacheBytes: number;
    readonly verifyBeforeSendBelowBytes: number;
  };
  readonly trust: TrustConfig;
}

/** `trust:` — the trust store's limits. */
export interface TrustConfig {
  readonly maxKeyValidityMs: number;
  readonly maxExemptionMs: number;
  readonly maxDocumentBytes: number;
  readonly maxEntries: number;
  /** Per client; 0 = no limit. */
  readonly submissionsPerMinute: number;
}
