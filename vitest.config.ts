import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The longest files first, then vitest's own order. The workshop test alone runs ~7 minutes (every
 * command of docs/workshop.md, in order, on one lab); vitest puts small files first when it has no
 * timings (a fresh clone in CI), and started last it ran alone at the end for minutes. Times are
 * from a full run on the 2-core machine.
 */
const LONGEST_FIRST = [
  'test/integration/workshop.test.ts', // ~430 s
  'test/integration/policy-conformance.test.ts', // ~110 s
  'test/integration/cli-kube.test.ts', // ~100 s
  'test/integration/outside.test.ts', // ~90 s
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((p) => f.moduleId.endsWith(p));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

// Integration tests build real network namespaces and push real packets. Three files at a time on
// the 2-core machine: much of a test is waiting (a DNS timeout, a probe's window, a pod starting),
// and the labs' processes start from the CLI bundle (scripts/bundle.mjs), cheap enough to overlap.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 3, minForks: 1 } },
    fileParallelism: true,
    sequence: { sequencer: LongestFirst },
  },
});
