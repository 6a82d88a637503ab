import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../dialect.js';
import * as m0001 from './0001_core.js';
import * as m0002 from './0002_identity.js';
import * as m0003 from './0003_tracking.js';
import * as m0004 from './0004_models_datasets.js';
import * as m0005 from './0005_tracking_indexes.js';
import * as m0006 from './0006_registry.js';
import * as m0007 from './0007_gates_releases.js';
import * as m0008 from './0008_serving.js';
import * as m0009 from './0009_prediction_shadow.js';
import * as m0010 from './0010_prediction_labels.js';
import * as m0011 from './0011_run_revisions.js';
import * as m0012 from './0012_prediction_tensor_bytes.js';

interface EngineMigration {
  up(db: Kysely<unknown>, engine: Engine): Promise<void>;
}

/**
 * Migrations in order. They are listed statically (not discovered from the file system) so the
 * compiled server needs no directory scan at boot and a missing file is a compile error.
 */
const ALL: Record<string, EngineMigration> = {
  '0001_core': m0001,
  '0002_identity': m0002,
  '0003_tracking': m0003,
  '0004_models_datasets': m0004,
  '0005_tracking_indexes': m0005,
  '0006_registry': m0006,
  '0007_gates_releases': m0007,
  '0008_serving': m0008,
  '0009_prediction_shadow': m0009,
  '0010_prediction_labels': m0010,
  '0011_run_revisions': m0011,
  '0012_prediction_tensor_bytes': m0012,
};

export function migrationsFor(engine: Engine): Record<string, Migration> {
  return Object.fromEntries(
    Object.entries(ALL).map(([name, m]) => [name, { up: (db: Kysely<unknown>) => m.up(db, engine) }]),
  );
}
