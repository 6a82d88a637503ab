#!/usr/bin/env node
// The `hangar` command. This file is committed so npm can link the command at install time, before
// the build (the `prepare` script) has created dist/.
try {
  await import('../dist/bin.js');
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('cli/dist/bin.js')) {
    console.error('hangar: the CLI is not built yet; run `npm run build` at the repository root');
    process.exit(2);
  }
  throw err;
}
