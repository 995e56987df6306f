// Source entry for development and for tests that spawn the CLI with tsx.
import { main } from './main.js'

process.exitCode = await main(process.argv.slice(2))
