import { InputError } from '../../../core/errors.js';
import type { LifecycleStage } from '../../../db/schema.js';

/** MLflow's run_view_type / view_type: which lifecycle stages a search returns. */
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

/** MLflow's SEARCH_MAX_RESULTS_DEFAULT and SEARCH_MAX_RESULTS_THRESHOLD. */
export const SEARCH_MAX_RESULTS_DEFAULT = 1000;
export const SEARCH_MAX_RESULTS_THRESHOLD = 50_000;

/** The stage a view is limited to; null for ALL. */
export function stageOf(view: ViewType | null | undefined): LifecycleStage | null {
  switch (view ?? 'ACTIVE_ONLY') {
    case 'ACTIVE_ONLY':
      return 'active';
    case 'DELETED_ONLY':
      return 'deleted';
    case 'ALL':
      return null;
    default:
      throw new InputError(`Invalid view type '${String(view)}': use ACTIVE_ONLY, DELETED_ONLY or ALL`, 'view_type');
  }
}

/** The page size: MLflow's default when absent, else a positive integer up to the threshold. */
export function maxResultsOf(value: number | null | undefined, what: 'runs' | 'experiments'): number {
  if (value === null || value === undefined) return SEARCH_MAX_RESULTS_DEFAULT;
  if (!Number.isInteger(value) || value < 1) {
    throw new InputError(
      `Invalid value for max_results. It must be a positive integer, but got ${value}`,
      'max_results',
    );
  }
  if (value > SEARCH_MAX_RESULTS_THRESHOLD) {
    throw new InputError(
      what === 'runs'
        ? `Invalid value for request parameter max_results. It must be at most ${SEARCH_MAX_RESULTS_THRESHOLD}, but got value ${value}`
        : `Invalid value for max_results. It must be at most ${SEARCH_MAX_RESULTS_THRESHOLD}, but got ${value}`,
      'max_results',
    );
  }
  return value;
}
