import { describe, it, expect } from 'vitest';
import { table } from '../../../src/text/index.js';

describe('kubectl-style tables', () => {
  it('pads columns to the widest cell plus three spaces, no trailing blanks', () => {
    expect(
      table(
        ['NAME', 'IP', 'NODE'],
        [
          ['client', '10.244.1.2', 'node1'],
          ['web-10', '10.244.10.2', 'node10'],
        ],
      ),
    ).toBe(['NAME     IP            NODE', 'client   10.244.1.2    node1', 'web-10   10.244.10.2   node10'].join('\n'));
    expect(table(['NAME'], [])).toBe('NAME');
  });
});
