#!/usr/bin/env node
// Runs the compiled CLI (npm run build). During development, `npx tsx src/cli/run-main.ts` does the same.
import { main } from '../dist/src/cli/main.js'

process.exitCode = await main(process.argv.slice(2))
