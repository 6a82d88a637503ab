/**
 * Domain errors carry a stable machine-readable code and know nothing of HTTP; the one mapper in
 * `http-errors.ts` turns them into responses. Throw these from services and stores.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The caller sent something invalid; `field` names the offending input where there is one. */
export class InputError extends DomainError {
  readonly code = 'invalid_input';
  constructor(
    message: string,
    readonly field?: string,
    details: Record<string, unknown> = {},
  ) {
    super(message, field ? { field, ...details } : details);
  }
}

/**
 * A byte range that does not overlap the file (starts past its end, or any range of an empty file).
 * HTTP answers it with 416 and `Content-Range: bytes *\/size`.
 */
export class RangeNotSatisfiableError extends InputError {
  constructor(
    readonly path: string,
    readonly size: number,
  ) {
    super(`range not satisfiable: artifact ${JSON.stringify(path)} has ${size} bytes`, 'range', { path, size });
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'not_found';
}

export class ConflictError extends DomainError {
  readonly code = 'conflict';
}

/**
 * The resource is in a state that does not allow the action (e.g. a stage transition of a version
 * whose evaluation gate failed): a 409 here, MLflow's INVALID_STATE through its adapter.
 */
export class InvalidStateError extends ConflictError {}

export class ForbiddenError extends DomainError {
  readonly code = 'forbidden';
}

export class UnauthenticatedError extends DomainError {
  readonly code = 'unauthenticated';
}

/** A dependency (database, object store) cannot be reached; retrying later may succeed. */
export class UnavailableError extends DomainError {
  readonly code = 'unavailable';
}

/** Too many attempts (e.g. failed logins); retry after `retryAfterSeconds`. */
export class TooManyRequestsError extends DomainError {
  readonly code = 'too_many_requests';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, { retryAfterSeconds });
  }
}
