import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { z } from 'zod'
import { sha256Hex } from '../digest.js'
import { toolsConfigOf } from '../tools-config.js'
import { ToolError, type ToolSpec } from '../tool.js'
import { describePath, isDotGitName, resolveInWorkspace } from '../workspace.js'
import { walk } from './walk.js'

export const FileSearchArgs = z
  .object({
    /** Directory (or file) to search. */
    path: z.string().min(1).max(4096).default('.'),
    query: z.string().min(1).max(1000),
    /** Treat `query` as a JavaScript regular expression instead of a substring. */
    regex: z.boolean().default(false),
    caseSensitive: z.boolean().default(true),
    includeHidden: z.boolean().default(false),
    maxMatches: z.number().int().min(1).max(10_000).default(200),
  })
  .strict()

export interface SearchMatch {
  file: string
  line: number
  text: string
}

interface SearchOutcome {
  matches: SearchMatch[]
  scanned: number
  skipped: number
  cutLines: number
  truncated: boolean
}

// Runs in a worker thread so a regex that backtracks catastrophically can be stopped by
// terminating the thread; JavaScript regexes cannot be interrupted any other way.
const SEARCH_WORKER = `
const { parentPort, workerData: w } = require('node:worker_threads')
const fs = require('node:fs')
const re = w.regex ? new RegExp(w.query, w.caseSensitive ? 'u' : 'iu') : null
const needle = w.caseSensitive ? w.query : w.query.toLowerCase()
const out = { matches: [], scanned: 0, skipped: 0, cutLines: 0, truncated: false }
outer: for (const f of w.files) {
  let buf
  try { buf = fs.readFileSync(f.abs) } catch { out.skipped++; continue }
  if (buf.length > w.maxFileBytes || buf.subarray(0, 8192).includes(0)) { out.skipped++; continue }
  out.scanned++
  const lines = buf.toString('utf8').split('\\n')
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]
    if (line.length > w.maxLineLength) { line = line.slice(0, w.maxLineLength); out.cutLines++ }
    const hit = re ? re.test(line) : (w.caseSensitive ? line : line.toLowerCase()).includes(needle)
    if (hit) {
      out.matches.push({ file: f.rel, line: i + 1, text: line.slice(0, 500) })
      if (out.matches.length >= w.maxMatches) { out.truncated = true; break outer }
    }
  }
}
parentPort.postMessage(out)
`

function runSearch(workerData: object, budgetMs: number, signal: AbortSignal): Promise<SearchOutcome> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(SEARCH_WORKER, {
      eval: true,
      workerData,
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    })
    const stop = (err: unknown): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      void worker.terminate()
      reject(err)
    }
    const timer = setTimeout(
      () =>
        stop(
          new ToolError(
            `search stopped after its ${budgetMs} ms budget (toolSettings.files.searchTimeBudgetMs); a regex that backtracks?`,
          ),
        ),
      budgetMs,
    )
    const onAbort = (): void => stop(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    worker.once('message', (m: SearchOutcome) => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      void worker.terminate()
      resolve(m)
    })
    worker.once('error', (err) => stop(new ToolError(`search failed: ${err.message}`)))
  })
}

/**
 * `file_search`: substring or regex search through text files under a workspace path. Binary and
 * oversized files are skipped, lines are cut to searchMaxLineLength, and the whole search runs in a
 * worker thread under a time budget, so no pattern can hang the process.
 *
 * @example
 *   await fileSearch.run({ path: 'src', query: 'TODO\\(\\w+\\)', regex: true }, ctx)
 */
export const fileSearch: ToolSpec<typeof FileSearchArgs> = {
  name: 'file_search',
  category: 'file',
  description: 'Search text files under a workspace path for a substring or regex (size- and time-capped).',
  args: FileSearchArgs,
  access: 'read',
  timeoutMs: 30_000,
  target: (args, ctx) => `file:${describePath(args.path, ctx.workspaceRoots)}`,
  async run(args, ctx) {
    const cfg = toolsConfigOf(ctx).files
    if (args.regex) {
      try {
        new RegExp(args.query, 'u')
      } catch (err) {
        throw new ToolError(`invalid regex: ${(err as Error).message}`)
      }
    }
    const start = await resolveInWorkspace(args.path, ctx.workspaceRoots)
    const files: { abs: string; rel: string }[] = []
    if (start.stats?.isFile())
      files.push({ abs: start.path, rel: describePath(args.path, ctx.workspaceRoots) })
    else {
      for await (const e of walk(start.path, {
        recursive: true,
        includeHidden: args.includeHidden,
        ignoreDirs: cfg.ignoreDirs,
        signal: ctx.signal,
      })) {
        // A gitfile (`.git` holding `gitdir: …`) is git's, like the directory it names.
        if (e.type === 'file' && !isDotGitName(path.basename(e.rel))) files.push({ abs: e.abs, rel: e.rel })
        if (files.length >= 100_000) break
      }
    }
    const r = await runSearch(
      {
        files,
        query: args.query,
        regex: args.regex,
        caseSensitive: args.caseSensitive,
        maxMatches: args.maxMatches,
        maxFileBytes: cfg.searchMaxFileBytes,
        maxLineLength: cfg.searchMaxLineLength,
      },
      cfg.searchTimeBudgetMs,
      ctx.signal,
    )
    const output = [
      ...r.matches.map((m) => `${m.file}:${m.line}: ${m.text}`),
      `(${r.matches.length} matches in ${r.scanned} files${r.skipped ? `, ${r.skipped} skipped (binary or too large)` : ''}${r.truncated ? ', stopped at maxMatches' : ''})`,
    ].join('\n')
    return { output, data: r }
  },
  async verify(_args, result) {
    const r = result.data as SearchOutcome
    return {
      kind: 'search',
      summary: `${r.matches.length} matches in ${r.scanned} files`,
      detail: { scanned: r.scanned, matches: r.matches.length, sha256: sha256Hex(result.output) },
    }
  },
}
