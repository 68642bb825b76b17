import { describe, expect, it } from 'vitest';
import { parseJson } from '../../src/common/json.js';

describe('parseJson', () => {
  it('gives every object a null prototype', () => {
    const v = parseJson('{"a":{"b":[{"c":1}]}}') as { a: { b: { c: number }[] } };
    expect([Object.getPrototypeOf(v), Object.getPrototypeOf(v.a), Object.getPrototypeOf(v.a.b[0])]).toEqual([null, null, null]);
  });

  it('looks up a name that is not there as undefined, not as an inherited key', () => {
    const tables = parseJson('{"quotes":1}') as Record<string, unknown>;
    expect([tables.constructor, tables.toString, tables.hasOwnProperty]).toEqual([undefined, undefined, undefined]);
  });

  it('keeps a "__proto__" name as an own key', () => {
    const v = parseJson('{"__proto__":{"x":1}}') as Record<string, { x: number }>;
    expect([Object.keys(v), Object.getPrototypeOf(v)]).toEqual([['__proto__'], null]);
  });
});
