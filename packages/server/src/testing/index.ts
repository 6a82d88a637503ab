// Test helpers other packages' integration tests use (`@hangar/server/testing`).
export { ADMIN_PASSWORD, ADMIN_TOKEN } from './test-app.js';
export {
  closedPort,
  runServerExpectingFailure,
  startServer,
  type ServerProcess,
  type StartServerOptions,
} from './server-process.js';
