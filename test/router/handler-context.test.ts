import { describe, expect, it } from 'vitest'
import { CommandsConfig } from '../../src/commands-core/commands-config.js'
import { FileConfig } from '../../src/config/file-config.js'
import { commentEvent, world } from '../commands/helpers/world.js'

describe('createHandlerContext', () => {
  it('re-reads the issue labels through the port, once per event', async () => {
    const w = world({ issueLabels: ['kind/bug'] })
    const ctx = w.ctx(
      commentEvent('/status', { issue: { ...commentEvent('').issue, labels: ['stale/label'] } }),
    )
    expect((await ctx.issue()).labels).toEqual(['kind/bug'])
    await ctx.issue()
    expect(w.port.calls.filter((c) => c === 'getIssue')).toHaveLength(1)
  })

  it('answers sovereign for configured sovereigns without asking Gitea, and caches other answers', async () => {
    const w = world()
    const ctx = w.ctx(commentEvent('/status'))
    expect(await ctx.permissions('Timmy')).toBe('sovereign')
    expect(await ctx.permissions('wendy')).toBe('write')
    expect(await ctx.permissions('WENDY')).toBe('write')
    expect(await ctx.permissions('stranger')).toBe('none')
    expect(w.port.calls.filter((c) => c === 'getCollaboratorPermission')).toHaveLength(2)
  })

  it('propagates a failing permission call (the handler turns it into a denial)', async () => {
    const w = world()
    w.port.failNext('getCollaboratorPermission', new Error('HTTP 503'))
    await expect(w.ctx(commentEvent('')).permissions('wendy')).rejects.toThrow('503')
  })
})

describe('commands config', () => {
  it('has defaults, also inside the file config', () => {
    expect(CommandsConfig.parse({})).toEqual({
      rateLimit: { perUser: { limit: 10, windowSeconds: 60 }, perIssue: { limit: 30, windowSeconds: 60 } },
      maxCommandsPerComment: 10,
      maxCommentBytes: 65_536,
      approvalTtlSeconds: 86400,
      // Label triggers start agent tasks: off unless configured.
      agents: { labelTriggers: false },
    })
    expect(CommandsConfig.parse({ agents: { labelTriggers: true } }).agents.labelTriggers).toBe(true)
    expect(CommandsConfig.safeParse({ agents: { labelTrigger: true } }).success).toBe(false)
    expect(FileConfig.parse({}).commands.rateLimit.perUser.limit).toBe(10)
    expect(
      FileConfig.parse({ commands: { rateLimit: { perIssue: { limit: 3, windowSeconds: 10 } } } }).commands
        .rateLimit,
    ).toEqual({
      perUser: { limit: 10, windowSeconds: 60 },
      perIssue: { limit: 3, windowSeconds: 10 },
    })
  })
  it('refuses bad values and unknown keys', () => {
    expect(CommandsConfig.safeParse({ maxCommandsPerComment: 0 }).success).toBe(false)
    expect(
      CommandsConfig.safeParse({ rateLimit: { perUser: { limit: -1, windowSeconds: 60 } } }).success,
    ).toBe(false)
    expect(CommandsConfig.safeParse({ rateLimits: {} }).success).toBe(false)
  })
})
