import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fileList } from '../../src/tools/file/file-list.js'
import { FileReadArgs, fileRead } from '../../src/tools/file/file-read.js'
import { FileSearchArgs, fileSearch } from '../../src/tools/file/file-search.js'
import { FileWriteArgs, fileWrite } from '../../src/tools/file/file-write.js'
import { ToolError } from '../../src/tools/tool.js'
import { isDotGitName, resolveInWorkspace } from '../../src/tools/workspace.js'
import { tempDir, toolContext } from './tool-context.js'

// The workspace is a real repository (root/.git), with a second work tree whose `.git` is a gitfile
// (`gitdir: ../elsewhere`, made by `git init --separate-git-dir`), so both kinds of git dir exist.
let root: string
let cleanup: () => Promise<void>
const TOKEN = 'ghp_secrettoken0123456789'

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, { cwd, stdio: 'ignore' })
}

beforeEach(async () => {
  ;({ dir: root, cleanup } = await tempDir('uw-gitguard-'))
  git(root, 'init', '-q', '.')
  git(root, 'remote', 'add', 'origin', `https://bot:${TOKEN}@git.example/o/r.git`)
  await mkdir(path.join(root, 'sub'))
  await writeFile(path.join(root, 'a.txt'), 'a\n')
  git(root, 'init', '-q', `--separate-git-dir=${path.join(root, 'elsewhere')}`, 'wt')
})
afterEach(async () => {
  await cleanup()
})

/** Every entry under `dir`: type, mode, content hash or link target. Any change shows. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const visit = async (rel: string): Promise<void> => {
    const abs = path.join(dir, rel)
    const st = await lstat(abs)
    if (st.isSymbolicLink()) out[rel] = `link ${await readlink(abs)}`
    else if (st.isDirectory()) {
      out[rel] = `dir ${st.mode}`
      for (const n of await readdir(abs)) await visit(path.join(rel, n))
    } else
      out[rel] = `file ${st.mode} ${createHash('sha256')
        .update(await readFile(abs))
        .digest('hex')}`
  }
  await visit('.')
  return out
}

const write = (p: string, createDirs = true) =>
  fileWrite.run(
    FileWriteArgs.parse({ path: p, content: '[core]\n\thooksPath = /tmp/evil\n', createDirs }),
    toolContext([root]),
  )

describe('file tools never write git internals', () => {
  // [name, setup returning the path to write]
  const attacks: [string, () => Promise<string> | string][] = [
    ['.git/config', () => '.git/config'],
    ['a new hook', () => '.git/hooks/pre-commit'],
    ['upper case .GIT', () => '.GIT/config'],
    ['mixed case .Git', () => '.Git/hooks/post-checkout'],
    ['./.git/../.git spelling', () => './.git/../.git/config'],
    ['sub/../.git spelling', () => 'sub/../.git/config'],
    ['absolute path into .git', () => path.join(root, '.git', 'config')],
    ['.git itself', () => '.git'],
    ['a new gitfile sub/.git', () => 'sub/.git'],
    ['a new .git dir through createDirs', () => 'sub/.git/hooks/x'],
    ['a new .GIT dir through createDirs', () => 'newdir/.GIT/config'],
    ['trailing dot .git.', () => '.git./config'],
    ['trailing space .git ', () => '.git /config'],
    ['NTFS short name GIT~1', () => 'GIT~1/config'],
    ['HFS+ ignorable code point', () => '.g\u200cit/config'],
    ['the gitfile of a work tree', () => 'wt/.git'],
    ['a gitfile target (separate git dir)', () => 'elsewhere/config'],
    ['a new hook in a gitfile target', () => 'elsewhere/hooks/pre-commit'],
    [
      'a symlink to .git/config',
      async () => {
        await symlink(path.join(root, '.git', 'config'), path.join(root, 'innocent'))
        return 'innocent'
      },
    ],
    [
      'a relative symlink to .git/config',
      async () => {
        await symlink('../.git/config', path.join(root, 'sub', 'cfg'))
        return 'sub/cfg'
      },
    ],
    [
      'a directory symlink to .git (existing file)',
      async () => {
        await symlink('.git', path.join(root, 'gd'))
        return 'gd/config'
      },
    ],
    [
      'a directory symlink to .git (new file)',
      async () => {
        await symlink('.git', path.join(root, 'gd'))
        return 'gd/hooks/post-merge'
      },
    ],
    [
      'a directory symlink to a gitfile target',
      async () => {
        await symlink('elsewhere', path.join(root, 'ew'))
        return 'ew/config'
      },
    ],
    [
      'a linked-worktree git dir (HEAD + commondir)',
      async () => {
        await mkdir(path.join(root, 'lw'))
        await writeFile(path.join(root, 'lw', 'HEAD'), 'ref: refs/heads/main\n')
        await writeFile(path.join(root, 'lw', 'commondir'), '../.git\n')
        return 'lw/config'
      },
    ],
    [
      'completing an embedded bare repo (refs/ last)',
      async () => {
        await mkdir(path.join(root, 'bare', 'objects'), { recursive: true })
        await writeFile(path.join(root, 'bare', 'HEAD'), 'ref: refs/heads/main\n')
        return 'bare/refs/heads/main'
      },
    ],
    [
      'completing an embedded bare repo (HEAD last)',
      async () => {
        await mkdir(path.join(root, 'bare', 'objects'), { recursive: true })
        await mkdir(path.join(root, 'bare', 'refs'))
        return 'bare/HEAD'
      },
    ],
  ]

  for (const [name, setup] of attacks) {
    it(`refuses: ${name}, and leaves the workspace byte-for-byte unchanged`, async () => {
      const p = await setup()
      const before = await snapshot(root)
      await expect(write(p)).rejects.toThrow(/git's own files are off limits/)
      await expect(write(p, false)).rejects.toThrow(ToolError)
      expect(await snapshot(root)).toEqual(before)
    })
  }

  const allowed = [
    '.gitignore',
    '.gitmodules',
    '.gitattributes',
    'x/.gitattributes',
    '.github/workflows/ci.yml',
    '.git-blame-ignore-revs',
    'a.git/b',
    '.gitx/y',
    'sub/HEAD',
    'objects/refs/HEAD',
  ]
  for (const p of allowed) {
    it(`still writes ${p}`, async () => {
      await write(p)
      expect(await readFile(path.join(root, p), 'utf8')).toContain('hooksPath')
    })
  }
})

describe('file tools never read git internals', () => {
  const reads = [
    '.git/config',
    '.GIT/config',
    './.git/../.git/config',
    'wt/.git',
    'elsewhere/config',
    'gd/config',
  ]

  for (const p of reads) {
    it(`file_read refuses ${p}`, async () => {
      await symlink('.git', path.join(root, 'gd'))
      await expect(fileRead.run(FileReadArgs.parse({ path: p }), toolContext([root]))).rejects.toThrow(
        /git's own files are off limits/,
      )
    })
  }

  it('file_list and file_search refuse to start inside .git', async () => {
    const ctx = toolContext([root])
    await expect(fileList.run({ path: '.git', recursive: false, includeHidden: true }, ctx)).rejects.toThrow(
      /off limits/,
    )
    await expect(
      fileSearch.run(FileSearchArgs.parse({ path: 'elsewhere', query: 'x' }), ctx),
    ).rejects.toThrow(/off limits/)
  })

  it('recursive list and search never enter a git dir, even when ignoreDirs is emptied', async () => {
    const ctx = toolContext([root], { files: { ignoreDirs: [] } })
    const list = await fileList.run({ path: '.', recursive: true, includeHidden: true }, ctx)
    const names = (list.data as { entries: { rel: string }[] }).entries.map((e) => e.rel)
    expect(names).toEqual(expect.arrayContaining(['.git', 'a.txt', 'elsewhere', 'wt', 'wt/.git']))
    expect(names.filter((n) => n.startsWith('.git/') || n.startsWith('elsewhere/'))).toEqual([])
    const found = await fileSearch.run(FileSearchArgs.parse({ query: TOKEN, includeHidden: true }), ctx)
    expect((found.data as { matches: unknown[] }).matches).toEqual([])
    const gitdir = await fileSearch.run(FileSearchArgs.parse({ query: 'gitdir:', includeHidden: true }), ctx)
    expect((gitdir.data as { matches: unknown[] }).matches).toEqual([])
  })
})

describe('the guard itself', () => {
  it('isDotGitName: spellings git or the file system treat as .git, and near misses', () => {
    for (const n of [
      '.git',
      '.GIT',
      '.gIt',
      '.git.',
      '.git ',
      '.git. . ',
      'GIT~1',
      'git~1',
      '.g\u200dit',
      '\ufeff.git',
    ])
      expect(isDotGitName(n), n).toBe(true)
    for (const n of ['.gitignore', '.github', 'a.git', 'git', '.git~1', '.gitx', '..git', '.g it'])
      expect(isDotGitName(n), n).toBe(false)
  })

  it('resolveInWorkspace applies it to every caller (here a directory lookup)', async () => {
    await expect(resolveInWorkspace('.git/hooks', [root], { kind: 'directory' })).rejects.toThrow(
      /off limits/,
    )
    await expect(resolveInWorkspace('wt', [root], { kind: 'directory' })).resolves.toMatchObject({
      path: path.join(root, 'wt'),
    })
  })
})
