import { execa } from 'execa';
import { HostError } from './errors.js';

/**
 * THE seam to Linux: every `ip`, `bridge`, `tc` (and the few other tools the
 * lab uses) runs through a CommandRunner, always as an argv array, never a
 * shell string. Tests and dry runs inject their own runner.
 */
export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface CommandRunner {
  /** Runs argv; rejects with HostError unless it exits 0 (or `allowFailure`). */
  run(
    argv: readonly string[],
    options?: { allowFailure?: boolean; input?: string; timeoutMs?: number },
  ): Promise<CommandResult>;
}

export interface RecordingRunner extends CommandRunner {
  readonly log: string[][];
}

export function execaRunner(): CommandRunner {
  return {
    async run(argv, options = {}) {
      const [file, ...args] = argv;
      if (!file) throw new HostError('ERR_BAD_NAME', 'empty command', argv);
      let result;
      try {
        result = await execa(file, args, {
          reject: false,
          input: options.input,
          timeout: options.timeoutMs ?? 30_000,
          stripFinalNewline: true,
        });
      } catch (cause) {
        throw new HostError('ERR_COMMAND_FAILED', `${argv.join(' ')}: ${(cause as Error).message}`, argv, '', {
          cause,
        });
      }
      if ((result as { code?: string }).code === 'ENOENT') {
        throw new HostError('ERR_COMMAND_MISSING', `${file} is not installed (needed for: ${argv.join(' ')})`, argv);
      }
      const out: CommandResult = {
        stdout: String(result.stdout ?? ''),
        stderr: String(result.stderr ?? ''),
        exitCode: result.exitCode ?? -1,
      };
      if (out.exitCode !== 0 && !options.allowFailure) {
        throw new HostError(
          'ERR_COMMAND_FAILED',
          `${argv.join(' ')} failed (exit ${out.exitCode}): ${out.stderr.trim() || out.stdout.trim()}`,
          argv,
          out.stderr,
        );
      }
      return out;
    },
  };
}

/** A runner that records argv and succeeds, for tests of plans. */
export function recordingRunner(): RecordingRunner {
  const log: string[][] = [];
  return {
    log,
    async run(argv) {
      log.push([...argv]);
      return { stdout: '', stderr: '', exitCode: 0 };
    },
  };
}
