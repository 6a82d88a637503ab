import { StringDecoder } from 'node:string_decoder';
import type { OutputSink, OutputStream } from './types.js';

/**
 * Forwards raw process output to an {@link OutputSink} as UTF-8 text while enforcing one byte
 * budget shared by all streams. `write(stream, bytes)` never throws and never blocks: once the
 * budget is spent the bytes are only counted, so the caller can keep draining the pipes.
 * `system(text)` bypasses the budget (the executor's own notes must always arrive). `finish()`
 * flushes the per-stream decoders and, if anything was dropped, emits exactly one 'system' line
 * saying how many bytes; call it once, after the last `write`. Exceptions thrown by the sink are
 * swallowed because a faulty log consumer must not stop the process from being drained.
 */
export class OutputLimiter {
  readonly #sink: OutputSink;
  readonly #maxBytes: number;
  readonly #decoders = new Map<OutputStream, StringDecoder>();
  #acceptedBytes = 0;
  #droppedBytes = 0;
  #finished = false;

  constructor(sink: OutputSink, maxBytes: number) {
    this.#sink = sink;
    this.#maxBytes = Math.max(0, Math.floor(maxBytes));
  }

  /** True once any byte has been dropped. */
  get truncated(): boolean {
    return this.#droppedBytes > 0;
  }

  /** Bytes that were counted but not forwarded. */
  get droppedBytes(): number {
    return this.#droppedBytes;
  }

  /** Bytes forwarded to the sink through `write` (system notes excluded). */
  get acceptedBytes(): number {
    return this.#acceptedBytes;
  }

  write(stream: OutputStream, bytes: Buffer): void {
    if (this.#finished || bytes.length === 0) return;
    const room = this.#droppedBytes > 0 ? 0 : this.#maxBytes - this.#acceptedBytes;
    let keep = Math.min(room, bytes.length);
    if (keep < bytes.length) {
      // Cut on a character boundary so the last forwarded chunk does not end in a replacement
      // character; the continuation bytes of the split character are counted as dropped.
      while (keep > 0 && ((bytes[keep] ?? 0) & 0xc0) === 0x80) keep--;
    }
    if (keep > 0) {
      this.#acceptedBytes += keep;
      this.#emit(stream, this.#decoder(stream).write(keep === bytes.length ? bytes : bytes.subarray(0, keep)));
    }
    if (keep < bytes.length) {
      if (this.#droppedBytes === 0) {
        // Once anything is dropped nothing more is forwarded (a later small chunk slipping into
        // the leftover room would read out of order), so a character left half-decoded at the
        // cut would only surface as U+FFFD from finish(); discard it.
        for (const decoder of this.#decoders.values()) decoder.end();
        this.#decoders.clear();
      }
      this.#droppedBytes += bytes.length - keep;
    }
  }

  system(text: string): void {
    if (this.#finished) return;
    this.#emit('system', text.endsWith('\n') ? text : `${text}\n`);
  }

  finish(): void {
    if (this.#finished) return;
    for (const [stream, decoder] of this.#decoders) this.#emit(stream, decoder.end());
    this.#decoders.clear();
    if (this.#droppedBytes > 0) {
      this.#emit(
        'system',
        `[hangar] log truncated: ${this.#droppedBytes} bytes of output dropped after the ${this.#maxBytes}-byte limit\n`,
      );
    }
    this.#finished = true;
  }

  #decoder(stream: OutputStream): StringDecoder {
    let decoder = this.#decoders.get(stream);
    if (!decoder) {
      decoder = new StringDecoder('utf8');
      this.#decoders.set(stream, decoder);
    }
    return decoder;
  }

  #emit(stream: OutputStream, text: string): void {
    if (text.length === 0) return;
    try {
      this.#sink(stream, text);
    } catch {
      // See class doc: the consumer's failure is not the process's failure.
    }
  }
}
