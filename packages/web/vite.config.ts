// Vite builds the portal into dist/, which the server serves at `/`. Asset names carry a content
// hash (Vite's default) so the server can cache them forever; index.html is served uncached.
import { defineConfig } from 'vite';

export default defineConfig({
  // oxc (Vite's built-in transformer) compiles TSX with the automatic runtime; no React plugin needed.
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Source maps let operators read stack traces from the field; they are only fetched by devtools.
    sourcemap: true,
  },
  server: {
    // `npm run dev -w @hangar/web` against a server on :8080 (HANGAR_URL to change it).
    proxy: Object.fromEntries(
      ['/api', '/version', '/healthz', '/readyz', '/metrics'].map((p) => [
        p,
        process.env.HANGAR_URL ?? 'http://127.0.0.1:8080',
      ]),
    ),
  },
});
