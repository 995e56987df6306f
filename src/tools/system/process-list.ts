import { z } from 'zod'
import { sha256Hex } from '../digest.js'
import { exec, tail } from '../exec.js'
import { ToolError, type ToolSpec } from '../tool.js'

export const ProcessListArgs = z
  .object({
    /** Keep processes whose (redacted) command line contains this text. */
    filter: z.string().max(200).optional(),
    sortBy: z.enum(['cpu', 'mem', 'pid']).default('cpu'),
    limit: z.number().int().min(1).max(2000).default(50),
  })
  .strict()

export interface ProcessRow {
  pid: number
  ppid: number
  user: string
  cpu: number
  mem: number
  rssKb: number
  elapsedSeconds: number
  /** The program as started (argv[0]). */
  program: string
  /** The command line with secret-looking arguments redacted (see `redactCommandLine`). */
  args: string
}

const HIDDEN = '[redacted]'
// Option and variable names whose value is a secret: --password, --db-pass, --token, --api-key,
// --client-secret, --auth, PGPASSWORD=, GITEA_TOKEN=, AWS_SECRET_ACCESS_KEY=...
const SECRET_NAME =
  /pass(?:word|wd|phrase)?|pwd|token|secret|api[-_]?key|access[-_]?key|private[-_]?key|auth|credential|cookie/i
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s/@]*@/gi

/**
 * Options whose value is a secret only for some programs (elsewhere `-p` is a port, `-a` a flag,
 * `-u` a user): `userinfo` hides only what follows the first `:` (`admin:[redacted]`); `after`
 * needs that word too (`docker login -p`, not `docker run -p 8080:80`).
 */
const PROGRAM_OPTIONS: Record<string, { opts: string[]; userinfo?: boolean; after?: string }[]> = {
  curl: [{ opts: ['-u', '--user', '-U', '--proxy-user'], userinfo: true }, { opts: ['--oauth2-bearer'] }],
  http: [{ opts: ['-a'], userinfo: true }],
  https: [{ opts: ['-a'], userinfo: true }],
  'redis-cli': [{ opts: ['-a'] }],
  sshpass: [{ opts: ['-p'] }],
  docker: [{ opts: ['-p'], after: 'login' }],
  podman: [{ opts: ['-p'], after: 'login' }],
  nerdctl: [{ opts: ['-p'], after: 'login' }],
  htpasswd: [],
}

/** Wrappers whose first non-option word is the real program. */
const WRAPPERS = new Set([
  'sudo',
  'env',
  'nohup',
  'nice',
  'ionice',
  'timeout',
  'time',
  'exec',
  'doas',
  'setsid',
])

/** The program a command line runs (past `sudo`, `env X=y`, `timeout 5`...) and its word index. */
function programOf(words: readonly string[]): { name: string; at: number } {
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string
    const name = w.slice(w.lastIndexOf('/') + 1)
    if (i > 0 && (w.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(w) || /^\d+[smhd]?$/.test(w))) continue
    if (!WRAPPERS.has(name)) return { name, at: i }
  }
  return { name: '', at: 0 }
}

/**
 * A command line as `ps` shows it, with what looks like a secret replaced by `[redacted]`:
 * `--password=x`, `--token x` (the next word), `-pSECRET` (mysql's attached form; `-p 8080` and
 * `-p8080` are ports and kept), `TOKEN=x` words, URL passwords (`https://user:pass@host`), and
 * options that carry a secret only for their program: `curl -u user:pass` (the part after `:`),
 * `redis-cli -a x`, `sshpass -p x`, `docker login -p x`, `htpasswd -b file user x`.
 * ps joins argv with spaces, so a value holding spaces is only hidden up to its first space.
 *
 * @example
 *   redactCommandLine('mysql -uroot -phunter2 --host db') // 'mysql -uroot -p[redacted] --host db'
 */
export function redactCommandLine(cmdline: string): string {
  const words = cmdline.split(' ')
  const prog = programOf(words)
  const rules = PROGRAM_OPTIONS[prog.name]
  for (let i = 1; i < words.length; i++) {
    if (rules && i > prog.at) {
      const w = words[i] as string
      const rule = rules.find((r) => r.opts.includes(w) && (!r.after || words.includes(r.after)))
      if (rule && i + 1 < words.length) {
        const v = words[i + 1] as string
        const colon = v.indexOf(':')
        words[i + 1] = rule.userinfo ? (colon >= 0 ? `${v.slice(0, colon)}:${HIDDEN}` : v) : HIDDEN
        i++
        continue
      }
      // The attached form of a userinfo option: `-uadmin:pass`.
      const attached = rules.find(
        (r) => r.userinfo && r.opts.some((o) => o.length === 2 && w.startsWith(o) && w.length > 2),
      )
      if (attached && w.includes(':')) {
        words[i] = `${w.slice(0, w.indexOf(':'))}:${HIDDEN}`
        continue
      }
    }
    const w = (words[i] as string).replace(URL_USERINFO, `$1:${HIDDEN}@`)
    words[i] = w
    const opt = /^(--?[A-Za-z0-9][\w.-]*)(=.*)?$/.exec(w)
    if (opt) {
      const name = opt[1] as string
      // mysql's -pSECRET; `-p8080` is a port. Hidden even when the rest reads like an option name.
      const attached = /^-p([^-].*)$/.exec(w)
      if (attached && !/^\d+$/.test(attached[1] as string)) words[i] = `-p${HIDDEN}`
      if (!SECRET_NAME.test(name)) continue
      if (opt[2] !== undefined) words[i] = `${name}=${HIDDEN}`
      else if (i + 1 < words.length && !(words[i + 1] as string).startsWith('-')) words[++i] = HIDDEN
      continue
    }
    const env = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(w)
    if (env && SECRET_NAME.test(env[1] as string)) words[i] = `${env[1]}=${HIDDEN}`
  }
  // `htpasswd -b[...] file user password`: the password is the last word.
  if (
    prog.name === 'htpasswd' &&
    words.some((w, i) => i > prog.at && /^-[a-zA-Z]*b/.test(w)) &&
    words.length > prog.at + 3
  )
    words[words.length - 1] = HIDDEN
  return words.join(' ')
}

/** Parses `ps -e -o pid=,ppid=,user=,pcpu=,pmem=,rss=,etimes=,args=` output; args come out redacted. */
export function parsePs(text: string): ProcessRow[] {
  const rows: ProcessRow[] = []
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line)
    if (!m) continue
    rows.push({
      pid: Number(m[1]),
      ppid: Number(m[2]),
      user: m[3] as string,
      cpu: Number(m[4]),
      mem: Number(m[5]),
      rssKb: Number(m[6]),
      elapsedSeconds: Number(m[7]),
      program: (m[8] as string).split(' ')[0] ?? '',
      args: redactCommandLine(m[8] as string),
    })
  }
  return rows
}

/**
 * `process_list`: running processes from `ps`, sorted and optionally filtered. Command lines may
 * carry secrets (`--password=…`, `TOKEN=…`, URL passwords), so they are redacted before anything
 * else, the filter included: a filter must not serve to guess a secret one character at a time.
 *
 * @example
 *   await processList.run({ filter: 'node', sortBy: 'mem', limit: 10 }, ctx)
 */
export const processList: ToolSpec<typeof ProcessListArgs> = {
  name: 'process_list',
  category: 'system',
  description:
    'Running processes (pid, user, cpu, memory, command line with secrets redacted), sorted and filtered.',
  args: ProcessListArgs,
  access: 'read',
  timeoutMs: 10_000,
  target: () => undefined,
  async run(args, ctx) {
    const r = await exec('ps', ['-e', '-ww', '-o', 'pid=,ppid=,user=,pcpu=,pmem=,rss=,etimes=,args='], {
      signal: ctx.signal,
      env: { PATH: process.env.PATH, LC_ALL: 'C' },
      maxOutputBytes: 8 * 1024 * 1024,
    })
    if (r.code !== 0) throw new ToolError(`ps failed: ${tail(r.stderr)}`, false, { fault: 'dependency' })
    let rows = parsePs(r.stdout)
    if (args.filter) rows = rows.filter((p) => p.args.includes(args.filter as string))
    const key = {
      cpu: (p: ProcessRow) => -p.cpu,
      mem: (p: ProcessRow) => -p.rssKb,
      pid: (p: ProcessRow) => p.pid,
    }[args.sortBy]
    rows.sort((a, b) => key(a) - key(b))
    const total = rows.length
    rows = rows.slice(0, args.limit)
    const output = [
      'PID\tPPID\tUSER\t%CPU\t%MEM\tRSS_KB\tCOMMAND',
      ...rows.map((p) => [p.pid, p.ppid, p.user, p.cpu, p.mem, p.rssKb, p.args].join('\t')),
      `(${rows.length} of ${total} processes)`,
    ].join('\n')
    return { output, data: { total, processes: rows } }
  },
  async verify(_args, result) {
    return { kind: 'snapshot', summary: 'read from ps', detail: { sha256: sha256Hex(result.output) } }
  },
}
