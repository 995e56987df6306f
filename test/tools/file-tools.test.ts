import { execFileSync } from 'node:child_process'
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sha256Hex } from '../../src/tools/digest.js'
import { fileList } from '../../src/tools/file/file-list.js'
import { FileReadArgs, fileRead } from '../../src/tools/file/file-read.js'
import { FileSearchArgs, fileSearch } from '../../src/tools/file/file-search.js'
import { FileWriteArgs, fileWrite } from '../../src/tools/file/file-write.js'
import { ToolError } from '../../src/tools/tool.js'
import { resolveInWorkspace } from '../../src/tools/workspace.js'
import { tempDir, toolContext } from './tool-context.js'

let root: string
let outside: string
const cleanups: (() => Promise<void>)[] = []

beforeEach(async () => {
  const a = await tempDir('uw-root-')
  const b = await tempDir('uw-outside-')
  root = a.dir
  outside = b.dir
  cleanups.push(a.cleanup, b.cleanup)
  await writeFile(path.join(root, 'a.txt'), 'hello\nworld\n')
  await writeFile(path.join(outside, 'secret.txt'), 'top secret\n')
  await mkdir(path.join(root, 'sub'))
})
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()))
})

describe('workspace confinement: attacks are refused', () => {
  const cases: [string, () => Promise<string>][] = [
    ['path traversal with ..', async () => '../' + path.basename(outside) + '/secret.txt'],
    ['deep traversal', async () => 'sub/../../../../etc/passwd'],
    ['absolute path outside the roots', async () => path.join(outside, 'secret.txt')],
    ['/etc/passwd', async () => '/etc/passwd'],
    [
      'symlink escaping the root',
      async () => {
        await symlink(path.join(outside, 'secret.txt'), path.join(root, 'link.txt'))
        return 'link.txt'
      },
    ],
    [
      'symlinked directory escaping the root',
      async () => {
        await symlink(outside, path.join(root, 'outdir'))
        return 'outdir/secret.txt'
      },
    ],
    [
      'FIFO',
      async () => {
        execFileSync('mkfifo', [path.join(root, 'pipe')])
        return 'pipe'
      },
    ],
    ['device', async () => '/dev/null'],
  ]
  for (const [name, make] of cases) {
    it(`file_read refuses: ${name}`, async () => {
      const p = await make()
      const ctx = toolContext([root])
      await expect(fileRead.run(FileReadArgs.parse({ path: p }), ctx)).rejects.toThrow(ToolError)
    })
  }

  it('refuses a device even when the device is inside a root', async () => {
    await expect(resolveInWorkspace('null', ['/dev'])).rejects.toThrow(/device, FIFO or socket/)
  })

  it('file_write refuses to write through a symlink whose parent escapes', async () => {
    await symlink(outside, path.join(root, 'outdir'))
    const ctx = toolContext([root])
    await expect(
      fileWrite.run(FileWriteArgs.parse({ path: 'outdir/new.txt', content: 'x' }), ctx),
    ).rejects.toThrow(/outside/)
    await expect(stat(path.join(outside, 'new.txt'))).rejects.toThrow()
  })

  it('file_write refuses a dangling symlink pointing outside', async () => {
    await symlink(path.join(outside, 'planted.txt'), path.join(root, 'dangling'))
    await expect(
      fileWrite.run(FileWriteArgs.parse({ path: 'dangling', content: 'x' }), toolContext([root])),
    ).rejects.toThrow(/dangling/)
    await expect(stat(path.join(outside, 'planted.txt'))).rejects.toThrow()
  })

  it('accepts an absolute path through a root that is configured via a symlink', async () => {
    const alias = path.join(outside, 'alias')
    await symlink(root, alias)
    const r = await fileRead.run(
      FileReadArgs.parse({ path: path.join(alias, 'a.txt') }),
      toolContext([alias]),
    )
    expect(r.output).toBe('hello\nworld\n')
  })

  it('allows a symlink that stays inside the root', async () => {
    await symlink(path.join(root, 'a.txt'), path.join(root, 'inner-link'))
    const r = await fileRead.run(FileReadArgs.parse({ path: 'inner-link' }), toolContext([root]))
    expect(r.output).toBe('hello\nworld\n')
  })
})

describe('file tools', () => {
  it('file_read returns content and the sha256 of the whole file, capped', async () => {
    const ctx = toolContext([root], { files: { maxReadBytes: 5 } })
    const r = await fileRead.run(FileReadArgs.parse({ path: 'a.txt' }), ctx)
    expect(r.output).toContain('hello')
    expect(r.output).toContain('[7 of 12 bytes not shown]')
    expect(r.targetDigest).toBe(sha256Hex('hello\nworld\n'))
    expect(await fileRead.targetDigest?.({ path: 'a.txt', encoding: 'utf8' }, ctx)).toBe(r.targetDigest)
    expect(fileRead.target({ path: 'a.txt', encoding: 'utf8' }, ctx)).toBe(`file:${root}/a.txt`)
    const ev = await fileRead.verify(FileReadArgs.parse({ path: 'a.txt' }), r, ctx)
    expect(ev?.detail.sha256).toBe(r.targetDigest)
  })

  it('file_write writes atomically and verifies by re-reading the sha256', async () => {
    const ctx = toolContext([root])
    const args = FileWriteArgs.parse({ path: 'sub/deeper/new.md', content: '# new\n', createDirs: true })
    const r = await fileWrite.run(args, ctx)
    expect(await readFile(path.join(root, 'sub/deeper/new.md'), 'utf8')).toBe('# new\n')
    const ev = await fileWrite.verify(args, r, ctx)
    expect(ev).toMatchObject({
      kind: 'sha256-reread',
      detail: { written: sha256Hex('# new\n'), reread: sha256Hex('# new\n') },
    })
    // No temp files left behind.
    expect(
      (await fileList.run({ path: 'sub/deeper', recursive: false, includeHidden: true }, ctx)).output,
    ).toBe('new.md\t6')
  })

  it('file_write verification fails when the content changed after the write', async () => {
    const ctx = toolContext([root])
    const args = FileWriteArgs.parse({ path: 'a.txt', content: 'v2' })
    const r = await fileWrite.run(args, ctx)
    await writeFile(path.join(root, 'a.txt'), 'tampered')
    expect(await fileWrite.verify(args, r, ctx)).toBeUndefined()
  })

  it('file_write keeps the mode of an existing file and refuses content over the cap', async () => {
    const ctx = toolContext([root], { files: { maxWriteBytes: 4 } })
    await expect(
      fileWrite.run(FileWriteArgs.parse({ path: 'a.txt', content: '12345' }), ctx),
    ).rejects.toThrow(/cap/)
    execFileSync('chmod', ['640', path.join(root, 'a.txt')])
    await fileWrite.run(FileWriteArgs.parse({ path: 'a.txt', content: '1234' }), ctx)
    expect((await stat(path.join(root, 'a.txt'))).mode & 0o777).toBe(0o640)
  })

  it('targetDigest is undefined for a missing file', async () => {
    expect(
      await fileWrite.targetDigest?.(
        FileWriteArgs.parse({ path: 'none.txt', content: '' }),
        toolContext([root]),
      ),
    ).toBeUndefined()
  })

  it('file_list lists recursively without following symlinks and stops at the cap', async () => {
    await writeFile(path.join(root, 'sub', 'b.txt'), 'b')
    await symlink(outside, path.join(root, 'outdir'))
    const ctx = toolContext([root])
    const r = await fileList.run({ path: '.', recursive: true, includeHidden: false }, ctx)
    expect(r.output.split('\n')).toEqual(['a.txt\t12', 'outdir@', 'sub/', 'sub/b.txt\t1'])
    const capped = await fileList.run(
      { path: '.', recursive: true, includeHidden: false, maxEntries: 2 },
      ctx,
    )
    expect(capped.output).toContain('[stopped at 2 entries]')
  })

  it('file_search finds substrings and regexes, skipping binary files', async () => {
    await writeFile(path.join(root, 'sub', 'code.ts'), 'const x = 1 // TODO(ann): fix\nplain line\n')
    await writeFile(path.join(root, 'bin.dat'), Buffer.from([0, 1, 2, 84, 79, 68, 79]))
    const ctx = toolContext([root])
    const sub = await fileSearch.run(FileSearchArgs.parse({ query: 'TODO' }), ctx)
    expect(sub.data).toMatchObject({ matches: [{ file: 'sub/code.ts', line: 1 }], skipped: 1 })
    const re = await fileSearch.run(FileSearchArgs.parse({ query: 'TODO\\((\\w+)\\)', regex: true }), ctx)
    expect((re.data as { matches: unknown[] }).matches).toHaveLength(1)
    const none = await fileSearch.run(FileSearchArgs.parse({ query: 'todo', caseSensitive: true }), ctx)
    expect((none.data as { matches: unknown[] }).matches).toHaveLength(0)
    await expect(fileSearch.run(FileSearchArgs.parse({ query: '(', regex: true }), ctx)).rejects.toThrow(
      /invalid regex/,
    )
  })

  it('file_search stops a catastrophic regex at its time budget instead of hanging', async () => {
    await writeFile(path.join(root, 'evil.txt'), `${'a'.repeat(3000)}!\n`)
    const ctx = toolContext([root], { files: { searchTimeBudgetMs: 300 } })
    await expect(
      fileSearch.run(FileSearchArgs.parse({ query: '^(a+)+$', regex: true }), ctx),
    ).rejects.toThrow(/budget/)
  })

  it('file_search refuses a start path outside the roots', async () => {
    await expect(
      fileSearch.run(FileSearchArgs.parse({ path: outside, query: 'secret' }), toolContext([root])),
    ).rejects.toThrow(/outside/)
  })
})
