import { StoreError } from '../store/types.js';

/**
 * API errors as Kubernetes answers them: a `Status` object with a reason,
 * an HTTP code and, for Invalid, one cause per field
 * (k8s.io/apimachinery/pkg/api/errors).
 */
export interface Cause {
  field: string;
  message: string;
  reason:
    | 'FieldValueRequired'
    | 'FieldValueInvalid'
    | 'FieldValueNotSupported'
    | 'FieldValueDuplicate'
    | 'FieldValueTooLong'
    | 'FieldValueForbidden';
}

export type Reason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'Expired'
  | 'Gone'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'InternalError'
  | 'ServiceUnavailable';

const CODES: Record<Reason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  InternalError: 500,
  ServiceUnavailable: 503,
};

export interface StatusDetails {
  name?: string;
  uid?: string;
  group?: string;
  kind?: string;
  causes?: Cause[];
}

export class ApiError extends Error {
  readonly code: number;
  constructor(
    readonly reason: Reason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = CODES[reason];
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `resource` is the plural, with its group when it has one: "pods", "deployments.apps". */
export const errors = {
  notFound: (resource: string, name: string, group?: string) =>
    new ApiError('NotFound', `${resource} "${name}" not found`, {
      name,
      ...(group ? { group } : {}),
      kind: resource.split('.')[0],
    }),
  alreadyExists: (resource: string, name: string, group?: string) =>
    new ApiError('AlreadyExists', `${resource} "${name}" already exists`, {
      name,
      ...(group ? { group } : {}),
      kind: resource.split('.')[0],
    }),
  conflict: (resource: string, name: string, group?: string) =>
    new ApiError(
      'Conflict',
      `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, ...(group ? { group } : {}), kind: resource.split('.')[0] },
    ),
  invalid: (kind: string, name: string, causes: Cause[], group?: string) =>
    new ApiError(
      'Invalid',
      `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
      {
        name,
        ...(group ? { group } : {}),
        kind,
        causes,
      },
    ),
  badRequest: (message: string) => new ApiError('BadRequest', message),
  expired: (message: string) => new ApiError('Expired', message),
  methodNotAllowed: (message: string) => new ApiError('MethodNotAllowed', message),
  /** apimachinery's NewRequestEntityTooLargeError: "Request entity too large: <why>" */
  tooLarge: (why: string) => new ApiError('RequestEntityTooLarge', `Request entity too large: ${why}`),
  unavailable: (message: string) => new ApiError('ServiceUnavailable', message),
};

/** A store failure as the API reports it. */
export function fromStoreError(err: StoreError, resource: string, name: string, group?: string): ApiError {
  switch (err.code) {
    case 'NotFound':
      return errors.notFound(resource, name, group);
    case 'AlreadyExists':
      return errors.alreadyExists(resource, name, group);
    case 'Conflict':
      return errors.conflict(resource, name, group);
    case 'Compacted':
      return errors.expired(`too old resource version: ${err.message}`);
    case 'TooLarge':
      return errors.tooLarge(err.message);
    default:
      return err.code === 'Unavailable'
        ? errors.unavailable(`the API server's storage is unreachable, try again later (${err.message})`)
        : new ApiError('InternalError', `storage: ${err.message}`);
  }
}
