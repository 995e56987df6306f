import { loadConfig, type Config } from '../config/index.js'
import { createRedis } from '../queue/connection.js'
import { defaultKeyDir } from '../provenance/key-store.js'
import { resolve } from 'node:path'
import type { RedisClient } from '../queue/connection.js'
import { toolsFromConfig } from '../tools/tools-from-config.js'
import type { ToolSpec } from '../tools/tool.js'
import type { ToolsConfig } from '../tools/tools-config.js'
import { UsageError } from './cli-command.js'

/** Configuration for the local CLI commands: env + YAML file, and Redis when REDIS_URL is set. */
export interface CliSetup {
  config: Config
  keyDir: string
  auditPath: string
  redis: RedisClient | undefined
  secrets: string[]
  /** Built-in tools plus the configured custom tools. */
  tools: ToolSpec[]
  /** The `toolSettings:` section, for every tool's context. */
  toolConfig: ToolsConfig
  close(): Promise<void>
}

/** Built-in plus configured custom tools, for commands that only list them. */
export function cliTools(): ToolSpec[] {
  return toolsFromConfig(loadConfig(process.env).file.toolSettings)
}

/** Loads configuration the same way the bot does; `useRedis` opens REDIS_URL when it is set. */
export function cliSetup(opts: { useRedis: boolean; keyDir?: string }): CliSetup {
  const config = loadConfig(process.env)
  const redis =
    opts.useRedis && config.env.REDIS_URL ? createRedis(config.env.REDIS_URL, 'producer') : undefined
  return {
    config,
    keyDir: resolve(opts.keyDir ?? config.file.keys.dir ?? defaultKeyDir(config.env.UW_DATA_DIR)),
    auditPath: resolve(config.file.audit.path ?? resolve(config.env.UW_DATA_DIR, 'audit.jsonl')),
    redis,
    secrets: [config.env.GITEA_TOKEN, ...config.env.WEBHOOK_SECRET].filter((s): s is string => Boolean(s)),
    tools: toolsFromConfig(config.file.toolSettings),
    toolConfig: config.file.toolSettings,
    async close() {
      redis?.disconnect()
    },
  }
}

/** Reads all of stdin. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Wraps node:util parseArgs errors as usage errors (exit 2 with the command's usage). */
export function usage<T>(fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
}
