/** nestedTooDeeply: the guard that turns runaway nesting into one line instead of a stack overflow. */
import { describe, expect, it } from 'vitest';
import { MAX_NESTING, nestedTooDeeply } from '../../src/config/depth.ts';

const flowList = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const blockMap = (levels: number) =>
  `${Array.from({ length: levels }, (_, i) => `${'  '.repeat(i)}a:`).join('\n')} 1\n`;

describe('nestedTooDeeply', () => {
  it.each([
    ['flow lists', flowList],
    ['block mappings', blockMap],
  ])('%s: %d levels pass, one more is refused', (_, make) => {
    expect(nestedTooDeeply(make(MAX_NESTING))).toBeNull();
    expect(nestedTooDeeply(make(MAX_NESTING + 1))).not.toBeNull();
  });

  it('points at the first list past the limit, by line and column', () => {
    expect(nestedTooDeeply(`actors:\n  - x: ${flowList(1000)}\n`)).toEqual({
      line: 2,
      col: 8 + MAX_NESTING - 3,
      limit: 64,
    });
  });

  it('a block mapping past the limit: the line where it starts', () => {
    expect(nestedTooDeeply(blockMap(1000))).toMatchObject({ line: MAX_NESTING + 1, col: 2 * MAX_NESTING + 1 });
  });

  it('keys count too, and every document of the file is walked', () => {
    expect(nestedTooDeeply(`? ${flowList(200)}\n: 1\n`)).not.toBeNull();
    expect(nestedTooDeeply(`a: 1\n---\nb: ${flowList(200)}\n`)).toMatchObject({ line: 3 });
  });

  it('5,000 levels: still one answer, no stack overflow', () => {
    expect(nestedTooDeeply(`x: ${flowList(5_000)}\n`)).toMatchObject({ line: 1 });
  });

  it('a real config passes', () => {
    const yaml = `actors:\n  - name: a\n    script: a.py\n    error_patterns:\n      - { pattern: x, action: alert }\n    env: { A: "1" }\n`;
    expect(nestedTooDeeply(yaml)).toBeNull();
  });
});
