import type { ArtifactStore } from '../../artifacts/index.js';
import { PermanentJobError } from '../../jobs/job-handler.js';
import { PROXY_SCHEME, storePathOf } from '../artifacts/service.js';
import type { DatasetRow } from '../datasets/store.js';
import { readHeldOut, type HeldOut } from '../evaluation/evaluate.js';

const FORMATS: Record<string, 'csv' | 'tsv'> = { csv: 'csv', tsv: 'tsv' };
const formatOf = (file: string) => FORMATS[file.slice(file.lastIndexOf('.') + 1).toLowerCase()];

/**
 * Reads a gate's held-out set: a dataset version whose source is a CSV or TSV file in this
 * server's artifact store (or a folder holding exactly one). Anything else, a missing label column
 * or a non-numeric feature is a PermanentJobError naming the problem.
 */
export async function loadHeldOut(
  artifacts: ArtifactStore,
  dataset: Pick<DatasetRow, 'id' | 'name' | 'source'>,
  labelColumn: string,
): Promise<HeldOut> {
  let uri: unknown;
  try {
    uri = (JSON.parse(dataset.source) as { uri?: unknown }).uri;
  } catch {
    uri = undefined;
  }
  const what = `the held-out dataset ${dataset.name} (${dataset.id})`;
  if (typeof uri !== 'string' || !uri.startsWith(PROXY_SCHEME)) {
    throw new PermanentJobError(
      `${what} is not in this server's artifact store (source ${dataset.source}); register a CSV or TSV artifact as the dataset`,
    );
  }
  const root = storePathOf(uri);
  const files = (await artifacts.list(root, { recursive: true })).filter((e) => !e.isDir);
  let file: string;
  if (files.length === 0) {
    if (!(await artifacts.exists(root))) throw new PermanentJobError(`${what} has no file at ${uri}`);
    file = root;
  } else {
    const tables = files.filter((f) => formatOf(f.path));
    if (tables.length !== 1) {
      throw new PermanentJobError(
        `${what} is a folder with ${tables.length} CSV/TSV files; the gate needs exactly one`,
      );
    }
    file = tables[0]!.path;
  }
  const format = formatOf(file);
  if (!format) throw new PermanentJobError(`${what} is ${file}, which is not a CSV or TSV file`);
  const { stream } = await artifacts.get(file);
  try {
    return await readHeldOut(stream, format, labelColumn);
  } catch (err) {
    stream.destroy();
    throw new PermanentJobError(`${what} cannot be read: ${(err as Error).message}`);
  }
}
