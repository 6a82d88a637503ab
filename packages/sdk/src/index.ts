export { HangarClient } from './generated/client.js';
export { HangarApiError } from './hangar-api-error.js';
export {
  HttpClient,
  type ClientOptions,
  type FetchFunction,
  type OperationRequest,
  type QueryValue,
  type RequestOptions,
  type ResponseKind,
  type StreamBody,
  type StreamOptions,
  type StreamRequest,
  type StreamResponse,
} from './http.js';
export type * from './generated/schema.js';
