import { useEffect, useState } from 'react';
import { api, artifactDownloadUrl } from '../../api.js';
import { Banner } from '../../components/Banner.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { EmptyState } from '../../components/EmptyState.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { delimiterOf, parseDelimited, type DelimitedPreview } from '../../csv.js';
import { formatBytes } from '../../format.js';
import { useResource } from '../../hooks.js';

export type PreviewKind = 'image' | 'json' | 'table' | 'text' | 'sniff' | 'none';

/** Text is previewed from its first bytes (a Range request), so a 2 GB log costs 512 KiB. */
const TEXT_BYTES = 512 * 1024;
/** A table preview reads its first MiB and shows the first rows of that. */
const TABLE_BYTES = 1024 * 1024;
const TABLE_ROWS = 100;
/** Images are shown whole, up to this size; bigger ones get only the download link. */
const IMAGE_BYTES = 20 * 1024 * 1024;
/** Files of no known kind: their first bytes say whether they are text. */
const SNIFF_BYTES = 8 * 1024;

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  bmp: 'image/bmp',
  avif: 'image/avif',
};
const TEXT_EXTENSIONS = new Set(
  'txt log md markdown rst yaml yml toml ini cfg conf py r sql sh bash ipynb js ts html htm xml properties env lock text out err'.split(
    ' ',
  ),
);
const TEXT_NAMES = new Set(['MLmodel', 'Dockerfile', 'LICENSE', 'README', 'Makefile', 'requirements.txt']);
const BINARY_EXTENSIONS = new Set(
  'pkl pickle joblib onnx pt pth bin ckpt safetensors h5 hdf5 keras pb tflite parquet feather arrow avro orc npy npz zip gz tgz tar bz2 xz 7z whl so dll dylib exe pdf mp3 mp4 wav mov'.split(
    ' ',
  ),
);

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function extensionOf(path: string): string {
  const base = baseName(path);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/** How a file is previewed, from its name. */
export function previewKindOf(path: string): PreviewKind {
  const ext = extensionOf(path);
  if (IMAGE_TYPES[ext]) return 'image';
  if (ext === 'json' || ext === 'geojson') return 'json';
  if (ext === 'csv' || ext === 'tsv' || ext === 'tab') return 'table';
  if (TEXT_NAMES.has(baseName(path)) || TEXT_EXTENSIONS.has(ext)) return 'text';
  if (BINARY_EXTENSIONS.has(ext)) return 'none';
  return 'sniff';
}

/** Text unless it holds NUL bytes or too many invalid UTF-8 sequences. */
function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  const text = new TextDecoder().decode(bytes);
  let bad = 0;
  for (const c of text) if (c === '\uFFFD') bad++;
  return bad <= Math.max(1, text.length / 100);
}

/** The text of a file's first bytes; a cut-off file ends at its last whole line. */
function decodeHead(bytes: Uint8Array, cut: boolean): string {
  const text = new TextDecoder().decode(bytes);
  if (!cut) return text;
  const nl = text.lastIndexOf('\n');
  return nl > 0 ? text.slice(0, nl + 1) : text;
}

type Loaded =
  | { kind: 'image'; blob: Blob }
  | { kind: 'json'; text: string; pretty: boolean; problem: string | null; cut: boolean }
  | { kind: 'text'; text: string; cut: boolean }
  | { kind: 'table'; table: DelimitedPreview }
  | { kind: 'none'; reason: string };

/**
 * Reads the first `bytes` of a file (all of it when it is smaller), through the SDK with a Range
 * header; `cut` says whether more follows.
 */
async function head(
  runId: string,
  path: string,
  size: number,
  bytes: number,
  signal: AbortSignal,
): Promise<{ data: Uint8Array; cut: boolean }> {
  if (size === 0) return { data: new Uint8Array(), cut: false };
  const cut = size > bytes;
  const data = await api().downloadRunArtifact(
    { runId, path },
    { signal, headers: cut ? { range: `bytes=0-${bytes - 1}` } : undefined },
  );
  return { data, cut };
}

async function load(runId: string, path: string, size: number, signal: AbortSignal): Promise<Loaded> {
  let kind = previewKindOf(path);
  if (kind === 'sniff') {
    const { data } = await head(runId, path, size, SNIFF_BYTES, signal);
    kind = looksLikeText(data) ? 'text' : 'none';
    if (kind === 'none') return { kind, reason: 'This file is not text, and its type has no preview.' };
  }
  switch (kind) {
    case 'image': {
      if (size > IMAGE_BYTES)
        return { kind: 'none', reason: `Images over ${formatBytes(IMAGE_BYTES)} are not previewed.` };
      const data = await api().downloadRunArtifact({ runId, path }, { signal });
      return { kind: 'image', blob: new Blob([data as BlobPart], { type: IMAGE_TYPES[extensionOf(path)] }) };
    }
    case 'json': {
      const { data, cut } = await head(runId, path, size, TEXT_BYTES, signal);
      const text = decodeHead(data, false);
      if (cut) return { kind: 'json', text: decodeHead(data, true), pretty: false, problem: null, cut };
      try {
        return { kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2), pretty: true, problem: null, cut };
      } catch (err) {
        return { kind: 'json', text, pretty: false, problem: err instanceof Error ? err.message : String(err), cut };
      }
    }
    case 'table': {
      const { data, cut } = await head(runId, path, size, TABLE_BYTES, signal);
      return { kind: 'table', table: parseDelimited(decodeHead(data, false), delimiterOf(path), TABLE_ROWS, cut) };
    }
    case 'text': {
      const { data, cut } = await head(runId, path, size, TEXT_BYTES, signal);
      return { kind: 'text', text: decodeHead(data, cut), cut };
    }
    default:
      return { kind: 'none', reason: 'Files of this type have no preview.' };
  }
}

/**
 * A preview of one artifact file: images drawn, JSON pretty-printed, CSV and TSV as a table of
 * their first rows, text as text (MLmodel, YAML, logs, code). Only the start of a big file is
 * read (a Range request); binary files and big images get the download link alone.
 */
export function ArtifactPreview({ runId, path, size }: { runId: string; path: string; size: number }) {
  const preview = useResource((signal) => load(runId, path, size, signal), [runId, path, size]);
  const data = preview.data;
  // The image is shown from a blob URL in an <img>, where even an SVG's scripts never run. The URL
  // holds the image in memory until revoked, so it lives exactly as long as the preview.
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (data?.kind !== 'image') return setUrl(null);
    const u = URL.createObjectURL(data.blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [data]);

  const name = baseName(path);
  return (
    <div className="artifact-preview" data-testid="artifact-preview" data-path={path} data-kind={data?.kind ?? ''}>
      <header className="artifact-preview-header">
        <div className="artifact-preview-title">
          <span className="mono" title={path} data-testid="artifact-preview-path">
            {path}
          </span>
          <span className="muted small">{formatBytes(size)}</span>
        </div>
        <a className="btn btn-secondary btn-sm" href={artifactDownloadUrl(runId, path)} download={name}>
          Download
        </a>
      </header>
      {preview.error !== null ? (
        <ErrorBanner error={preview.error} title={`Could not preview ${name}`} onRetry={preview.reload} />
      ) : !data ? (
        <LoadingBlock label="Loading preview…" />
      ) : data.kind === 'image' ? (
        url && <img className="artifact-image" src={url} alt={name} data-testid="artifact-image" />
      ) : data.kind === 'none' ? (
        <EmptyState title="No preview">
          <p>{data.reason} Download it to open it.</p>
        </EmptyState>
      ) : data.kind === 'table' ? (
        <TablePreview table={data.table} />
      ) : (
        <>
          {data.kind === 'json' && data.problem && (
            <Banner tone="warning" title="Not valid JSON">
              <p>{data.problem}</p>
            </Banner>
          )}
          {data.cut && <CutNotice shown={TEXT_BYTES} size={size} />}
          <pre className="code preview-code" data-testid="artifact-text" tabIndex={0}>
            {data.text}
          </pre>
        </>
      )}
    </div>
  );
}

function CutNotice({ shown, size }: { shown: number; size: number }) {
  return (
    <p className="muted small" data-testid="preview-cut">
      Showing the first {formatBytes(shown)} of {formatBytes(size)}; download the file for all of it.
    </p>
  );
}

function TablePreview({ table }: { table: DelimitedPreview }) {
  if (table.header.length === 0) return <p className="muted">The file is empty.</p>;
  return (
    <>
      <p className="muted small" data-testid="table-preview-summary">
        {table.more ? `The first ${table.rows.length} rows` : `All ${table.rows.length} rows`}, {table.header.length}{' '}
        columns.
      </p>
      <div className="preview-table-wrap" tabIndex={0}>
        <table className="preview-table" data-testid="artifact-table">
          <thead>
            <tr>
              <th scope="col" className="num">
                #
              </th>
              {table.header.map((h, i) => (
                <th key={i} scope="col">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.rows.map((row, r) => (
              <tr key={r}>
                <td className="num muted">{r + 1}</td>
                {table.header.map((_, c) => (
                  <td key={c}>{row[c] ?? ''}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
