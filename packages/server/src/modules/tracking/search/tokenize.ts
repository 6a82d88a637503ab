/*
 * The lexer for MLflow's search grammar (filter strings and order_by items). MLflow tokenizes with
 * sqlparse; this lexer produces the tokens that grammar needs and nothing more, keeping the source
 * offsets of each token so errors can quote what the caller wrote.
 */

/** One dot-separated piece of an identifier, with the quote it was written in (if any). */
export interface IdentPart {
  text: string;
  quote: '`' | '"' | null;
}

interface Span {
  /** Offset of the first character in the source. */
  start: number;
  /** Offset after the last character in the source. */
  end: number;
  /** The source text of the token. */
  text: string;
}

/**
 * `ident` covers bare words (keywords included: the parser decides), dotted names such as
 * `metrics.acc` or ``params.`a b` ``, and double-quoted text, which MLflow reads as a key on the
 * left of a comparison and as a string value on the right.
 */
export type Token =
  | (Span & { kind: 'ident'; parts: IdentPart[] })
  | (Span & { kind: 'string'; value: string })
  | (Span & { kind: 'number'; value: number })
  | (Span & { kind: 'op' })
  | (Span & { kind: 'lparen' | 'rparen' | 'comma' | 'semicolon' })
  /** Anything the grammar has no place for (a stray character, an unterminated quote). */
  | (Span & { kind: 'junk' });

const WORD = /[\p{L}\p{N}_$#]+/uy;
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const OP = /[<>=!~]+/y;
const SPACE = /\s+/y;
const WORD_CHAR = /[\p{L}\p{N}_$#]/u;

function match(re: RegExp, input: string, at: number): string | null {
  re.lastIndex = at;
  const m = re.exec(input);
  return m ? m[0] : null;
}

/**
 * Reads a quoted run starting at `at` (which holds the quote). A doubled quote or a backslash
 * before the quote stands for the quote itself; `\\` is kept as two characters, so LIKE patterns
 * keep their escapes and a value may end in a backslash pair. Returns null when unterminated.
 */
function readQuoted(input: string, at: number): { value: string; end: number } | null {
  const q = input[at]!;
  let value = '';
  let i = at + 1;
  while (i < input.length) {
    const c = input[i]!;
    const next = input[i + 1];
    if (c === q) {
      if (next === q) {
        value += q;
        i += 2;
        continue;
      }
      return { value, end: i + 1 };
    }
    if (c === '\\' && (next === q || next === '\\')) {
      value += next === q ? q : '\\\\';
      i += 2;
      continue;
    }
    value += c;
    i += 1;
  }
  return null;
}

function readIdentPart(input: string, at: number): { part: IdentPart; end: number } | null {
  const c = input[at];
  if (c === '`' || c === '"') {
    const q = readQuoted(input, at);
    return q ? { part: { text: q.value, quote: c }, end: q.end } : null;
  }
  const w = match(WORD, input, at);
  return w ? { part: { text: w, quote: null }, end: at + w.length } : null;
}

/** Splits a filter or order_by string into tokens; never throws (bad input becomes `junk`). */
export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: 'op' | 'lparen' | 'rparen' | 'comma' | 'semicolon' | 'junk', end: number) => {
    tokens.push({ kind, start: i, end, text: input.slice(i, end) });
    i = end;
  };
  while (i < input.length) {
    const space = match(SPACE, input, i);
    if (space) {
      i += space.length;
      continue;
    }
    const c = input[i]!;
    if (c === "'") {
      const q = readQuoted(input, i);
      if (!q) {
        push('junk', input.length);
        continue;
      }
      tokens.push({ kind: 'string', value: q.value, start: i, end: q.end, text: input.slice(i, q.end) });
      i = q.end;
      continue;
    }
    const num = match(NUMBER, input, i);
    // `1abc` is a word, not a number followed by a word (as in sqlparse).
    if (num && !WORD_CHAR.test(input[i + num.length] ?? '')) {
      tokens.push({ kind: 'number', value: Number(num), start: i, end: i + num.length, text: num });
      i += num.length;
      continue;
    }
    const first = readIdentPart(input, i);
    if (first) {
      const parts = [first.part];
      let end = first.end;
      while (input[end] === '.') {
        const more = readIdentPart(input, end + 1);
        if (!more) break;
        parts.push(more.part);
        end = more.end;
      }
      tokens.push({ kind: 'ident', parts, start: i, end, text: input.slice(i, end) });
      i = end;
      continue;
    }
    if (c === '`' || c === '"') {
      push('junk', input.length); // unterminated quote
      continue;
    }
    const op = match(OP, input, i);
    if (op) push('op', i + op.length);
    else if (c === '(') push('lparen', i + 1);
    else if (c === ')') push('rparen', i + 1);
    else if (c === ',') push('comma', i + 1);
    else if (c === ';') push('semicolon', i + 1);
    else push('junk', i + 1);
  }
  return tokens;
}

/** The upper-cased word when the token is a single bare word (a keyword candidate), else null. */
export function keywordOf(token: Token | undefined): string | null {
  if (token?.kind !== 'ident' || token.parts.length !== 1 || token.parts[0]!.quote !== null) return null;
  return token.parts[0]!.text.toUpperCase();
}
