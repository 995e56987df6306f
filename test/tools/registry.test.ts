import { readFileSync } from 'node:fs'
import { describe, expect, it, vi } from 'vitest'
import { toolsCommand } from '../../src/cli/tools-command.js'
import { describeTool } from '../../src/tools/describe-tool.js'
import { builtinTools } from '../../src/tools/index.js'

describe('tool registry', () => {
  it('has the 24 built-in tools, uniquely named, each with a positive timeout', () => {
    const names = builtinTools.map((t) => t.name)
    expect(new Set(names).size).toBe(names.length)
    expect(names).toHaveLength(24)
    for (const t of builtinTools) expect(t.timeoutMs).toBeGreaterThan(0)
  })

  it('writes are exactly the tools that change something', () => {
    const writes = builtinTools.filter((t) => t.access === 'write').map((t) => t.name)
    expect(writes.sort()).toEqual(
      [
        'file_write',
        'git_checkout',
        'git_commit',
        'git_pull',
        'git_push',
        'gitea_comment',
        'gitea_create_issue',
        'gitea_create_pr',
        'http_post',
        'service_control',
      ].sort(),
    )
  })

  it('describeTool lists args with types, required flags and defaults', () => {
    const d = describeTool(builtinTools.find((t) => t.name === 'git_pull')!)
    expect(d.args).toEqual([
      { name: 'repoPath', type: 'string', required: false, default: '.' },
      { name: 'remote', type: 'string', required: false, default: 'origin' },
      { name: 'branch', type: 'string', required: false },
      { name: 'ffOnly', type: 'boolean', required: false, default: true },
    ])
  })

  it('docs/TOOLS.md documents every built-in tool', () => {
    const doc = readFileSync(new URL('../../docs/TOOLS.md', import.meta.url), 'utf8')
    for (const t of builtinTools) expect(doc, t.name).toContain(`### \`${t.name}\``)
  })

  it('`uni-wizard tools --json` prints every tool; an unknown option is a usage error', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    try {
      expect(await toolsCommand.run(['--json'])).toBe(0)
      const printed = JSON.parse(String(log.mock.calls[0]?.[0])) as { name: string; access: string }[]
      expect(printed.map((t) => t.name)).toEqual(builtinTools.map((t) => t.name))
    } finally {
      log.mockRestore()
    }
    await expect(toolsCommand.run(['--bogus'])).rejects.toThrow(/unknown option/)
  })
})
