/*
 * The parsed form of MLflow search filters and order_by items. Keys are canonical: aliases such as
 * `created` (start_time) or `Run name` (run_name) are resolved by the parser, so compilers never
 * see them.
 */

export type NumericComparator = '=' | '!=' | '>' | '>=' | '<' | '<=';
export type StringComparator = '=' | '!=' | 'LIKE' | 'ILIKE';
export type ListComparator = 'IN' | 'NOT IN';
export type NullComparator = 'IS NULL' | 'IS NOT NULL';
export type Comparator = NumericComparator | StringComparator | ListComparator | NullComparator;

/** Run attributes as MLflow names them (`user_id` is the user name MLflow clients see). */
export type NumericRunAttribute = 'start_time' | 'end_time';
export type StringRunAttribute = 'run_id' | 'run_name' | 'user_id' | 'status' | 'artifact_uri';
export type RunAttribute = NumericRunAttribute | StringRunAttribute;

export type DatasetKey = 'name' | 'digest' | 'context';

export type DatasetClause =
  | { type: 'dataset'; key: DatasetKey; comparator: StringComparator; value: string }
  | { type: 'dataset'; key: DatasetKey; comparator: ListComparator; values: string[] };

/** One `AND`-ed comparison of a runs filter. */
export type RunClause =
  | { type: 'metric'; key: string; comparator: NumericComparator; value: number }
  | { type: 'parameter' | 'tag'; key: string; comparator: StringComparator; value: string }
  | { type: 'parameter' | 'tag'; key: string; comparator: NullComparator }
  | { type: 'attribute'; key: NumericRunAttribute; comparator: NumericComparator; value: number }
  | { type: 'attribute'; key: StringRunAttribute; comparator: StringComparator; value: string }
  | { type: 'attribute'; key: 'run_id'; comparator: ListComparator; values: string[] }
  | DatasetClause;

export type ExperimentNumericAttribute = 'creation_time' | 'last_update_time';

/** One `AND`-ed comparison of an experiments filter. */
export type ExperimentClause =
  | { type: 'attribute'; key: 'name'; comparator: StringComparator; value: string }
  | { type: 'attribute'; key: ExperimentNumericAttribute; comparator: NumericComparator; value: number }
  | { type: 'tag'; key: string; comparator: StringComparator; value: string }
  | { type: 'tag'; key: string; comparator: NullComparator };

export type RunOrderBy =
  | { type: 'attribute'; key: RunAttribute; ascending: boolean }
  | { type: 'metric' | 'parameter' | 'tag'; key: string; ascending: boolean };

export type ExperimentOrderKey = 'name' | 'experiment_id' | 'creation_time' | 'last_update_time';

export interface ExperimentOrderBy {
  key: ExperimentOrderKey;
  ascending: boolean;
}

export type LoggedModelNumericAttribute = 'creation_timestamp' | 'last_updated_timestamp';
export type LoggedModelStringAttribute = 'name' | 'model_id' | 'model_type' | 'status' | 'source_run_id';

/** One `AND`-ed comparison of a logged-models filter (MLflow 3's SearchLoggedModels). */
export type LoggedModelClause =
  | { type: 'metric'; key: string; comparator: NumericComparator; value: number }
  | { type: 'parameter' | 'tag'; key: string; comparator: StringComparator; value: string }
  | { type: 'attribute'; key: LoggedModelNumericAttribute; comparator: NumericComparator; value: number }
  | { type: 'attribute'; key: LoggedModelStringAttribute; comparator: StringComparator; value: string }
  | { type: 'attribute'; key: LoggedModelStringAttribute; comparator: ListComparator; values: string[] };

/** One `AND`-ed comparison of a registered-models filter (MLflow's SearchRegisteredModels). */
export type RegisteredModelClause =
  | { type: 'attribute'; key: 'name'; comparator: StringComparator; value: string }
  | { type: 'attribute'; key: 'name'; comparator: ListComparator; values: string[] }
  | { type: 'tag'; key: string; comparator: StringComparator; value: string };

/** `name` is the registered model's name; `source_path` is the version's source. */
export type ModelVersionStringAttribute = 'name' | 'run_id' | 'source_path';

/** One `AND`-ed comparison of a model-versions filter (MLflow's SearchModelVersions). */
export type ModelVersionClause =
  | { type: 'attribute'; key: ModelVersionStringAttribute; comparator: StringComparator; value: string }
  | { type: 'attribute'; key: 'name' | 'run_id'; comparator: ListComparator; values: string[] }
  | { type: 'attribute'; key: 'version_number'; comparator: NumericComparator; value: number }
  | { type: 'tag'; key: string; comparator: StringComparator; value: string };

export type RegisteredModelOrderKey = 'name' | 'creation_timestamp' | 'last_updated_timestamp';
export type ModelVersionOrderKey = 'name' | 'version_number' | 'creation_timestamp' | 'last_updated_timestamp';

export interface RegistryOrderBy<K extends string> {
  key: K;
  ascending: boolean;
}
