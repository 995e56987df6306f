import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { main } from '../../src/cli/main.js'
import { defaultTools, Harness, House, readAttestation } from '../../src/harness/index.js'
import { renderAck } from '../../src/report/render.js'
import type { DsseEnvelope } from '../../src/provenance/index.js'
import { echo } from '../harness/test-tools.js'

const root = resolve(import.meta.dirname, '../..')
const tsx = join(root, 'node_modules/.bin/tsx')
const entry = join(root, 'src/cli/run-main.ts')

function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      tsx,
      [entry, ...args],
      {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
        cwd: env.UW_DATA_DIR,
      },
      (err, stdout, stderr) => done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    )
  })
}

describe('uni-wizard CLI exit codes', () => {
  it('run, test, verify, keys and audit answer with 0 / 1 / 2 as documented', async () => {
    const data = mkdtempSync(join(tmpdir(), 'uw-cli-'))
    const env = { UW_DATA_DIR: data }
    // A signed result made by the library, embedded as the bot embeds it in a comment.
    const h = new Harness({
      house: House.BEZALEL,
      tools: [echo],
      sign: true,
      keyDir: join(data, 'keys'),
      auditPath: join(data, 'audit.jsonl'),
    })
    const r = await h.execute(
      'echo',
      { text: 'hello' },
      { requestedBy: 'alice', job: { id: 'j0123456789ab' } },
    )
    await h.close()
    const env0 = r.provenance.envelope as DsseEnvelope
    const comment = renderAck(
      {
        jobId: 'j0123456789ab',
        house: 'bezalel',
        tool: 'echo',
        houseReason: undefined,
        requester: 'alice',
        mode: r.provenance.statement.predicate.mode.toUpperCase() as 'SIMPLE',
        dryRun: false,
      },
      {
        state: 'success',
        reason: undefined,
        output: r.output,
        statement: r.provenance.statement,
        envelope: env0,
      },
    )
    writeFileSync(join(data, 'comment.md'), comment)
    writeFileSync(join(data, 'edited.md'), comment.replace('requested by @alice', 'requested by @timmy'))
    writeFileSync(join(data, 'envelope.json'), JSON.stringify(env0))
    // How comments embedded envelopes before: text around it was never checked, so it is refused.
    writeFileSync(join(data, 'loose.md'), `Result: success\n\n\`\`\`json\n${JSON.stringify(env0)}\n\`\`\`\n`)
    const tampered = {
      ...env0,
      payload: Buffer.from(Buffer.from(env0.payload, 'base64').toString().replace('alice', 'mallo')).toString(
        'base64',
      ),
    }
    writeFileSync(join(data, 'tampered.json'), JSON.stringify(tampered))
    writeFileSync(
      join(data, 'other.pub'),
      (await import('node:crypto'))
        .generateKeyPairSync('ed25519')
        .publicKey.export({ type: 'spki', format: 'pem' }),
    )

    const cases: [string[], number, RegExp?][] = [
      [['--help'], 0, /commands:/],
      [['run', '--help'], 0, /exit: 0 success/],
      [['run', 'echo'], 2, /--house is required/],
      [['run', 'echo', '--house', 'nobody'], 2, /unknown house "nobody"/],
      [['run', 'echo', '--house', 'allegro', '--mode', 'fast'], 2, /--mode must be/],
      [['run', 'no_such_tool', '--house', 'allegro'], 1, /unknown tool no_such_tool/],
      [['test', '--house', 'allegro'], 2, /--tool is required/],
      [['verify', join(data, 'comment.md')], 0, /valid: signed by bezalel[^]*checked: the comment/],
      [
        ['verify', join(data, 'edited.md')],
        1,
        /invalid: requester: the comment shows "@timmy", the statement signs "@alice"/,
      ],
      [['verify', join(data, 'loose.md')], 1, /invalid: layout: line 1/],
      [['verify', join(data, 'envelope.json')], 0, /checked: the envelope alone/],
      [['verify', join(data, 'tampered.json')], 1, /invalid: signature does not match/],
      [['verify', join(data, 'comment.md'), '--key', join(data, 'other.pub')], 1, /invalid/],
      [['verify', join(data, 'missing.json')], 2, /cannot read/],
      [['verify'], 2, /give one file/],
      [['keys'], 0, /# house bezalel keyid [0-9a-f]{64}/],
      [['audit', 'verify'], 0, /ok: 1 entries/],
      [['audit', 'nonsense'], 2, /subcommand is `verify`/],
    ]
    // In-process for the table (fast); the spawned runs below check the real process exit codes.
    process.env.UW_DATA_DIR = data
    const results: { code: number; stdout: string; stderr: string }[] = []
    for (const [args] of cases) {
      const out: string[] = []
      const err: string[] = []
      const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')))
      const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')))
      const write = vi.spyOn(process.stdout, 'write').mockImplementation((c) => out.push(String(c)) > 0)
      const code = await main(args)
      log.mockRestore()
      error.mockRestore()
      write.mockRestore()
      results.push({ code, stdout: out.join('\n'), stderr: err.join('\n') })
    }
    delete process.env.UW_DATA_DIR
    cases.forEach(([args, code, pattern], i) => {
      const res = results[i] as { code: number; stdout: string; stderr: string }
      expect({ args, code: res.code }).toEqual({ args, code })
      if (pattern) expect(`${res.stdout}${res.stderr}`, args.join(' ')).toMatch(pattern)
    })
    const verified = (results[7] as { stdout: string }).stdout
    expect(results[7]?.stdout).toContain('checked: the comment')
    expect(verified).toContain('"requestedBy": "alice"')

    // A broken chain is named and exits 1.
    const audit = join(data, 'audit.jsonl')
    writeFileSync(audit, readFileSync(audit, 'utf8').replace('"seq":1', '"seq":2'))
    const [broken, valid, usageError] = await Promise.all([
      cli(['audit', 'verify'], env),
      cli(['verify', join(data, 'comment.md')], env),
      cli(['run', 'echo'], env),
    ])
    expect([broken.code, valid.code, usageError.code]).toEqual([1, 0, 2])
    expect(broken.stderr).toMatch(/broken link at entry 1/)
    expect(usageError.stderr.split('\n')[0]).toBe('uni-wizard run: --house is required')
  })

  it.skipIf(!defaultTools.some((t) => t.name === 'system_info'))(
    'run of a built-in read tool exits 0',
    async () => {
      const data = mkdtempSync(join(tmpdir(), 'uw-cli-'))
      const res = await cli(['test', '--house', 'allegro', '--tool', 'system_info', '--json'], {
        UW_DATA_DIR: data,
      })
      // The output says why when it is not 0 (seen once under load: exit 1).
      expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0)
      expect(JSON.parse(res.stdout).status).toBe('success')
    },
  )
})

describe('uni-wizard keys --router, approve and verify: who attested what', () => {
  /** Runs the CLI in-process with UW_DATA_DIR set; returns exit code and output. */
  async function run(data: string, args: string[]): Promise<{ code: number; out: string }> {
    process.env.UW_DATA_DIR = data
    const out: string[] = []
    const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')))
    const error = vi.spyOn(console, 'error').mockImplementation((...a) => void out.push(a.join(' ')))
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((c) => out.push(String(c)) > 0)
    try {
      return { code: await main(args), out: out.join('\n') }
    } finally {
      log.mockRestore()
      error.mockRestore()
      write.mockRestore()
      delete process.env.UW_DATA_DIR
    }
  }

  it('exports the router public key, attests with it, and verify names the attesting router', async () => {
    const data = mkdtempSync(join(tmpdir(), 'uw-cli-'))
    const keys = await run(data, ['keys', '--router'])
    expect(keys.code).toBe(0)
    expect(keys.out).toMatch(/^# router keyid [0-9a-f]{64}\n-----BEGIN PUBLIC KEY-----/)
    expect(keys.out).not.toMatch(/PRIVATE/)
    // The exported file, comment line included, is what a worker machine loads as _router.pub.
    const { createPublicKey } = await import('node:crypto')
    const routerPub = createPublicKey(keys.out)
    // No house key; `_router.created` dates the router key (the legacy-approval upgrade window).
    expect(readdirSync(join(data, 'keys')).sort()).toEqual(['_router.created', '_router.key', '_router.pub'])

    const approved = await run(data, ['approve', 'system_info', '--approver', 'alice', '--house', 'bezalel'])
    expect(approved.code).toBe(0)
    const reading = readAttestation(JSON.parse(approved.out), [routerPub])
    expect(reading.valid && reading.attestation).toMatchObject({ approver: 'alice', house: 'bezalel' })
    expect((await run(data, ['approve', 'system_info', '--approver', 'a', '--house', 'nobody'])).code).toBe(2)

    // A SOVEREIGN result approved through the router key, given as its bare envelope.
    const h = new Harness({
      house: House.TIMMY,
      tools: [echo],
      keyDir: join(data, 'keys'),
      auditPath: join(data, 'audit.jsonl'),
      config: { houses: { timmy: { sovereigns: ['alice'] } } },
    })
    const approval = h.approve('echo', { text: 'x' }, { approver: 'alice', job: { id: 'j7' } })
    const r = await h.execute('echo', { text: 'x' }, { requestedBy: 'bob', approval, job: { id: 'j7' } })
    await h.close()
    expect(r.status).toBe('success')
    writeFileSync(join(data, 'comment.md'), JSON.stringify(r.provenance.envelope as DsseEnvelope))
    const verified = await run(data, ['verify', join(data, 'comment.md')])
    expect(verified.code).toBe(0)
    expect(verified.out).toMatch(
      /approved by @alice \(sovereign of timmy\) for job j7 at \S+, attested by router [0-9a-f]{12}… \(signature valid/,
    )
    // Without the router's public key the attestation is shown, but as not checked.
    const elsewhere = mkdtempSync(join(tmpdir(), 'uw-cli-'))
    const timmyPub = join(elsewhere, 'timmy.pub')
    writeFileSync(timmyPub, readFileSync(join(data, 'keys', 'timmy.pub')))
    const unchecked = await run(elsewhere, ['verify', join(data, 'comment.md'), '--key', timmyPub])
    expect(unchecked.code).toBe(0)
    expect(unchecked.out).toMatch(/attested by router [0-9a-f]{12}…: not checked/)
  })
})
