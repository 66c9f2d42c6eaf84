/**
 * A guard against runaway nesting in actors.yaml. yaml composes lists and
 * mappings recursively: a value nested a thousand levels deep (`[[[[…]]]]`)
 * overflows the stack, and yaml reports "Maximum call stack size exceeded" once
 * per level it unwinds through, dozens of lines for one value. So before
 * composing, the syntax tree is walked with an explicit stack (yaml's parser
 * builds it without recursion) and a value deeper than any real config is
 * refused as one line at its position.
 */
import { type CST, LineCounter, Parser } from 'yaml';

/**
 * The deepest a real config goes is the file, the actors list, an actor and
 * its error_patterns entry: 5 levels, and 2 more per nested supervisor. 64
 * leaves room for 29 supervisors inside each other.
 */
export const MAX_NESTING = 64;

export interface TooDeep {
  readonly line: number;
  readonly col: number;
  readonly limit: number;
}

/** The first list or mapping (in file order) nested more than MAX_NESTING levels down, or null. */
export function nestedTooDeeply(text: string, limit = MAX_NESTING): TooDeep | null {
  const lines = new LineCounter();
  const todo: { token: CST.Token; depth: number }[] = [];
  const push = (tokens: readonly (CST.Token | null | undefined)[], depth: number) => {
    // Reversed, so that the stack pops them in file order.
    for (let i = tokens.length - 1; i >= 0; i--) {
      const token = tokens[i];
      if (token !== null && token !== undefined) todo.push({ token, depth });
    }
  };
  push([...new Parser(lines.addNewLine).parse(text)], 0);
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    const { token, depth } = next;
    switch (token.type) {
      case 'document':
        push([token.value], depth);
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        if (depth + 1 > limit) {
          const at = lines.linePos(token.type === 'flow-collection' ? token.start.offset : token.offset);
          return { line: at.line, col: at.col, limit };
        }
        push(
          token.items.flatMap((item) => [item.key, item.value]),
          depth + 1,
        );
        break;
      }
      default:
        // Scalars, aliases, comments and the like hold nothing nested.
        break;
    }
  }
  return null;
}
