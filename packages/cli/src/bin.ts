#!/usr/bin/env node
import { runCli } from './program.js';

// `hangar jobs logs ID | head` closes stdout early: the reader's choice, not a failure to report.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// Entry of the `hangar` command. exitCode rather than process.exit() lets piped stdout drain;
// null means a long-running command (`hangar server`) owns the process from here on.
const code = await runCli(process.argv.slice(2));
if (code !== null) process.exitCode = code;
