import { describe, it, expect } from 'vitest';
import { applyJsonPatch, parsePointer } from '../../../src/control/api/json-patch.js';

describe('JSON patch (RFC 6902)', () => {
  const doc = { metadata: { name: 'web', annotations: { a: '1' } }, spec: { list: [1, 2, 3], 'x/y': { '~k': 0 } } };

  it('what kubectl rollout undo sends: replace /spec/template and /metadata/annotations', () => {
    const d = { metadata: { annotations: { 'deployment.kubernetes.io/revision': '2' } }, spec: { template: { a: 1 } } };
    const out = applyJsonPatch(d, [
      { op: 'replace', path: '/spec/template', value: { b: 2 } },
      { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '2', c: 'd' } },
    ]);
    expect(out).toEqual({
      metadata: { annotations: { 'deployment.kubernetes.io/revision': '2', c: 'd' } },
      spec: { template: { b: 2 } },
    });
    expect(d.spec.template).toEqual({ a: 1 }); // the input is not changed
  });

  it('add, remove, move, copy, test; ~0 and ~1 escapes; - appends', () => {
    expect(parsePointer('/spec/x~1y/~0k')).toEqual(['spec', 'x/y', '~k']);
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/spec/list/-', value: 4 },
      { op: 'add', path: '/spec/list/0', value: 0 },
      { op: 'remove', path: '/spec/list/1' },
      { op: 'copy', from: '/metadata/name', path: '/metadata/alias' },
      { op: 'move', from: '/spec/x~1y/~0k', path: '/spec/k' },
      { op: 'test', path: '/spec/k', value: 0 },
    ]);
    expect(out).toEqual({
      metadata: { name: 'web', alias: 'web', annotations: { a: '1' } },
      spec: { list: [0, 2, 3, 4], 'x/y': {}, k: 0 },
    });
  });

  it('refuses what does not apply, all or nothing', () => {
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/spec/nope', value: 1 }])).toThrow(
      'replace operation does not apply: doc is missing key: /spec/nope: missing value',
    );
    expect(() => applyJsonPatch(doc, [{ op: 'remove', path: '/spec/list/3' }])).toThrow('index out of bounds');
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/metadata/name', value: 'x' }])).toThrow('test failed');
    expect(() => applyJsonPatch(doc, [{ op: 'frob', path: '/a' }])).toThrow('Unexpected kind: frob');
    expect(() => applyJsonPatch(doc, { op: 'add' })).toThrow('a JSON patch is a list of operations');
    const status = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { code: number }).code;
      }
    };
    expect(status(() => applyJsonPatch(doc, { op: 'add' }))).toBe(400); // no patch at all
    expect(status(() => applyJsonPatch(doc, [{ op: 'remove', path: '/nope' }]))).toBe(422); // one that does not apply
  });
});
