#!/usr/bin/env node
import { runServer } from './main.js';

// Entry for `node dist/bin.js --port ...` (the CLI's `hangar server` calls runServer too).
const code = await runServer(process.argv.slice(2));
if (code !== null) process.exit(code);
