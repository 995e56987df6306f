import { Worker } from 'node:worker_threads'

export interface LoadOptions {
  url: string
  connections: number
  durationMs: number
  headers: Record<string, string>
  body: Buffer
  /** Each request gets `X-Gitea-Delivery: <idPrefix>-<n>`, so none is a duplicate. */
  idPrefix: string
}

export interface LoadResult {
  requests: number
  errors: number
  statuses: Record<string, number>
  elapsedMs: number
  rps: number
  /** Milliseconds. */
  p50: number
  p99: number
}

/** Runs closed-loop keep-alive POSTs from a worker thread for a bounded time. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./load-worker.mjs', import.meta.url), {
      workerData: { ...options, body: new Uint8Array(options.body) },
    })
    worker.once('message', (result: LoadResult) => resolve(result))
    worker.once('error', reject)
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load worker exited with ${code}`))
    })
  })
}
