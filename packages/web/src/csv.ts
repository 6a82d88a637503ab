// Reading the head of a CSV or TSV artifact for its preview. Pure (no DOM), tested in Node.

export interface DelimitedPreview {
  header: string[];
  rows: string[][];
  /** True when more records follow than were read (or the text was cut off mid-file). */
  more: boolean;
}

/**
 * Parses up to `maxRows` records after the header of RFC 4180 text (quoted fields with doubled
 * quotes, CRLF or LF line ends). `partial` says the text is only the start of the file (a Range
 * request): its last record may be cut off, so it is dropped rather than shown wrong.
 */
export function parseDelimited(text: string, delimiter: string, maxRows: number, partial = false): DelimitedPreview {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let i = 0;
  // The header plus one record beyond the limit, to know whether there are more.
  const want = maxRows + 2;
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a UTF-8 byte order mark
  for (i = start; i < text.length && records.length < want; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') {
      quoted = true;
    } else if (c === delimiter) {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  const readAll = i >= text.length;
  // The text ended without a final line break: the last record is whole only if the file is.
  if (readAll && !partial && !quoted && (field !== '' || record.length > 0)) {
    record.push(field);
    records.push(record);
  }
  const [header = [], ...body] = records;
  return { header, rows: body.slice(0, maxRows), more: partial || !readAll || body.length > maxRows };
}

/** The delimiter for a file name: tab for .tsv/.tab, comma otherwise. */
export function delimiterOf(path: string): string {
  return /\.(tsv|tab)$/i.test(path) ? '\t' : ',';
}
