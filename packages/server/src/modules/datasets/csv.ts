import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/**
 * The rows of delimited text (RFC 4180 quoting: `"a, b"`, `""` for a quote inside quotes; LF or
 * CRLF line ends), yielded one at a time as a stream is read, whatever the chunking. A blank line
 * yields `['']`.
 */
export async function* readDelimitedRows(stream: Readable, sep: string): AsyncGenerator<string[]> {
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let afterQuote = false;
  let pendingCr = false;
  let started = false;
  for await (const chunk of decoded(stream)) {
    const out: string[][] = [];
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (pendingCr) {
        pendingCr = false;
        if (c === '\n') continue;
      }
      started = true;
      if (quoted) {
        if (c === '"') {
          if (chunk[i + 1] === '"') {
            cell += '"';
            i++;
          } else {
            // Closing, unless a quote follows at the start of the next chunk (a split "").
            quoted = false;
            afterQuote = true;
          }
        } else cell += c;
        continue;
      }
      const wasAfterQuote = afterQuote;
      afterQuote = false;
      if (c === '"') {
        if (wasAfterQuote) {
          cell += '"';
          quoted = true;
        } else if (cell === '') quoted = true;
        else cell += c;
      } else if (c === sep) {
        row.push(cell);
        cell = '';
      } else if (c === '\n' || c === '\r') {
        row.push(cell);
        out.push(row);
        row = [];
        cell = '';
        started = false;
        pendingCr = c === '\r';
      } else cell += c;
    }
    yield* out;
  }
  if (started || cell !== '' || row.length > 0) {
    row.push(cell);
    yield row;
  }
}

/**
 * The stream's text, chunk by chunk. Decoded here rather than with setEncoding, so other listeners
 * still see the raw bytes; the decoder's end is read too, so a file cut inside a character ends
 * with U+FFFD like any other undecodable byte, rather than losing it.
 */
async function* decoded(stream: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  for await (const bytes of stream as AsyncIterable<Buffer>) yield decoder.write(bytes);
  const rest = decoder.end();
  if (rest) yield rest;
}
