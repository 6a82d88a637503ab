export type {
  ArtifactEntry,
  ArtifactStat,
  ArtifactStore,
  ByteRange,
  DeleteResult,
  GetResult,
  ListOptions,
  PutOptions,
  PutResult,
} from './types.js';
export { openArtifactStore, type ArtifactStoreOptions } from './open-artifact-store.js';
export { LocalArtifactStore, type LocalArtifactStoreOptions } from './local-artifact-store.js';
// The S3 store is reached through openArtifactStore, which loads it (and the AWS SDK) only when needed.
export type { S3ArtifactStore, S3ArtifactStoreOptions, S3Credentials } from './s3-artifact-store.js';
export { scopeArtifactStore } from './scope-artifact-store.js';
export { RangeNotSatisfiableError, resolveByteRange } from './range.js';
export {
  isSafeArtifactPath,
  joinArtifactPath,
  normalizeArtifactPath,
  MAX_ARTIFACT_PATH_BYTES,
  MAX_ARTIFACT_PATH_DEPTH,
  MAX_ARTIFACT_SEGMENT_BYTES,
} from './safe-path.js';
