export type * from './ast.js';
export {
  compileExperimentSearch,
  experimentFilterConditions,
  searchExperiments,
  type CompiledExperimentSearch,
  type ExperimentSearchOptions,
  type ExperimentSearchPage,
  type ExperimentSearchRow,
} from './compile-experiment-search.js';
export {
  compileRunSearch,
  runFilterConditions,
  searchRunRevisions,
  searchRuns,
  type CompiledRunSearch,
  type DatasetFilter,
  type KeyValueForm,
  type RunSearchOptions,
  type RunSearchPage,
  type RunRevision,
  type RunSearchRow,
} from './compile-run-search.js';
export {
  SEARCH_MAX_RESULTS_DEFAULT,
  SEARCH_MAX_RESULTS_THRESHOLD,
  maxResultsOf,
  stageOf,
  type ViewType,
} from './options.js';
export {
  FILTER_LIMITS,
  LOGGED_MODEL_ATTRIBUTES,
  parseExperimentFilter,
  parseLoggedModelFilter,
  parseModelVersionFilter,
  parseRegisteredModelFilter,
  parseRunFilter,
} from './parse-filter.js';
export { byCodePoint, compareInteger, compareList, compareReal, compareText } from './compare.js';
export {
  ORDER_BY_LIMIT,
  parseExperimentOrderBy,
  parseModelVersionOrderBy,
  parseRegisteredModelOrderBy,
  parseRunOrderBy,
} from './parse-order-by.js';
