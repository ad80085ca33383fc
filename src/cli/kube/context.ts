import type { ApiClient } from '../../control/client/index.js';

/** What a kubectl verb runs with: the API, its two output streams, a clock. Verbs return the exit code. */
export interface KubeContext {
  client: ApiClient;
  /** as given (http://host:port or unix:/path), for messages */
  server: string;
  out(text: string): void;
  err(text: string): void;
  now(): number;
  /** resolves when the user interrupts (Ctrl-C): ends -w and -f */
  interrupted: Promise<void>;
}

/** The namespace flags every namespaced verb takes. */
export interface NamespaceFlags {
  namespace: string;
  allNamespaces?: boolean;
}
