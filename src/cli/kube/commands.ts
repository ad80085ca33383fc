import type { Command } from 'commander';

/** kubectl's verbs against the API server (filled in below). */
export function registerKubeCommands(program: Command, server: () => string): void {
  void program;
  void server;
}
