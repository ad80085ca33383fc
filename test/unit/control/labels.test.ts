import { describe, it, expect } from 'vitest';
import {
  parseSelector,
  matches,
  selectorRequirements,
  labelKeyError,
  labelValueError,
  LabelError,
} from '../../../src/control/labels.js';

const pod = { app: 'web', tier: 'frontend', 'app.kubernetes.io/name': 'shop' };

describe('label selectors (Kubernetes semantics)', () => {
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['env!=prod', true], // != matches objects without the label
    ['app in (web, api)', true],
    ['app notin (web)', false],
    ['env notin (prod)', true],
    ['tier', true],
    ['!tier', false],
    ['!env', true],
    ['app=web,tier=frontend', true],
    ['app=web, tier=backend', false],
    ['app.kubernetes.io/name=shop', true],
    ['app=web,!env,tier in (frontend,backend)', true],
  ])('%s -> %s', (sel, want) => {
    expect(matches(parseSelector(sel), pod)).toBe(want);
  });

  it.each(['app=', 'app in (a', 'app in ()', '=web', 'app=we b', '-bad=x', 'a/b/c=d', `k=${'x'.repeat(64)}`])(
    'rejects %s clearly',
    (sel) => {
      if (sel === 'app=') {
        expect(matches(parseSelector(sel), { app: '' })).toBe(true); // an empty value is a valid value
        return;
      }
      expect(() => parseSelector(sel)).toThrow(LabelError);
    },
  );

  it('matchLabels AND matchExpressions; empty selects everything', () => {
    const reqs = selectorRequirements({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['frontend'] },
        { key: 'env', operator: 'DoesNotExist' },
      ],
    });
    expect(matches(reqs, pod)).toBe(true);
    expect(matches(reqs, { ...pod, env: 'x' })).toBe(false);
    expect(matches(selectorRequirements({}), pod)).toBe(true);
    expect(() => selectorRequirements({ matchExpressions: [{ key: 'a', operator: 'In' }] })).toThrow(
      /needs at least one value/,
    );
    expect(() => selectorRequirements({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] })).toThrow(
      /takes no values/,
    );
    expect(() => selectorRequirements({ matchExpressions: [{ key: 'a', operator: 'Gt' as never }] })).toThrow(
      /unknown operator/,
    );
  });

  it('validates keys and values as the API does', () => {
    expect(labelKeyError('app')).toBeNull();
    expect(labelKeyError('example.com/app')).toBeNull();
    expect(labelKeyError('Example.com/app')).toMatch(/DNS subdomain/);
    expect(labelKeyError('a'.repeat(64))).toMatch(/1-63/);
    expect(labelKeyError('_x')).toMatch(/alphanumerics/);
    expect(labelValueError('')).toBeNull();
    expect(labelValueError('v1.2_3-a')).toBeNull();
    expect(labelValueError('has space')).toMatch(/at most 63/);
  });
});
