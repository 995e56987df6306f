// The verify page: a pasted result comment or envelope gets the checks of `uni-wizard verify`,
// through a form that needs the session's CSRF token.
import { generateKeyPairSync } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from '../../src/provenance/dsse.js'
import { buildStatement, outputFacts } from '../../src/provenance/statement.js'
import { renderAck, type AckJob } from '../../src/report/render.js'
import { Browser, dashboardWorld, VIEWER_TOKEN, type DashboardWorld } from './dashboard-world.js'

const house = generateKeyPairSync('ed25519')
const stranger = generateKeyPairSync('ed25519')

const job: AckJob = {
  jobId: 'j0123456789ab',
  house: 'bezalel',
  tool: 'git_status',
  houseReason: 'named in the command',
  requester: 'wendy',
  mode: 'SIMPLE',
  dryRun: false,
}

/** A result comment as the reporter posts it, and its envelope, signed with `key`. */
function signedComment(key = house.privateKey, output = 'On branch main\nnothing to commit\n') {
  const facts = outputFacts(output, 50_000)
  const statement = buildStatement({
    outputSha256: facts.sha256,
    predicate: {
      requestedBy: 'wendy',
      house: 'bezalel',
      mode: 'simple',
      tool: 'git_status',
      argsDigest: 'sha256:aa',
      approvals: [],
      host: 'w1',
      versions: { uniWizard: '0.1.0', node: '20' },
      startedAt: '2026-01-01T00:00:01.000Z',
      finishedAt: '2026-01-01T00:00:02.000Z',
      attempts: 1,
      status: 'success',
      evidence: [],
      requestUrl: 'http://gitea/o/r/issues/1#issuecomment-77',
      deliveryId: 'd-1',
      jobId: job.jobId,
      output: facts.output,
    },
  })
  const envelope = signEnvelope(Buffer.from(JSON.stringify(statement)), IN_TOTO_PAYLOAD_TYPE, key)
  return {
    body: renderAck(job, { state: 'success', reason: undefined, output, statement, envelope }),
    envelope,
  }
}

let world: DashboardWorld
let browser: Browser
let csrf: string
beforeEach(async () => {
  world = await dashboardWorld({ trustedKeys: () => [{ house: 'bezalel', key: house.publicKey }] })
  browser = new Browser(world)
  await browser.logInWithToken(VIEWER_TOKEN)
  csrf = await browser.csrfToken('/dashboard/verify')
})
afterEach(async () => {
  await world.close()
})

const verify = async (text: string) => {
  const res = await browser.post('/dashboard/verify', { _csrf: csrf, text })
  return { status: res.status, html: await res.text() }
}

describe('the verify page', () => {
  it('shows a labelled form', async () => {
    const html = await (await browser.request('/dashboard/verify')).text()
    expect(html).toContain('<label for="verify-text">')
    expect(html).toContain('<textarea id="verify-text" name="text"')
    expect(html).toMatch(/<a href="\/dashboard\/verify" aria-current="page">Verify<\/a>/)
  })

  it('proves a genuine result comment: signer, what was checked, the statement', async () => {
    const { status, html } = await verify(signedComment().body)
    expect(status).toBe(200)
    expect(html).toContain('<h2 id="verdict">Valid</h2>')
    expect(html).toContain('Signed by <strong>bezalel</strong>')
    expect(html).toContain('job id, status, tool, house, requester, mode, output and every provenance line')
    expect(html).toContain('&quot;jobId&quot;: &quot;j0123456789ab&quot;')
  })

  it('proves a bare envelope by its signature alone', async () => {
    const { html } = await verify(JSON.stringify(signedComment().envelope))
    expect(html).toContain('<h2 id="verdict">Valid</h2>')
    expect(html).toContain('the envelope alone')
  })

  it('says why a comment does not hold: edited output, unknown key', async () => {
    const edited = await verify(signedComment().body.replace('nothing to commit', 'nothing to see here'))
    expect(edited.html).toContain('<h2 id="verdict">Not valid</h2>')
    expect(edited.html).toMatch(/output/)
    const foreign = await verify(signedComment(stranger.privateKey).body)
    expect(foreign.html).toContain('<h2 id="verdict">Not valid</h2>')
    expect(foreign.html).not.toContain('Signed by')
  })

  it('refuses an empty form with 400 and the reason', async () => {
    const { status, html } = await verify('   ')
    expect(status).toBe(400)
    expect(html).toContain('paste a result comment or an envelope')
  })

  it('refuses a form without the CSRF token or from another origin, and checks nothing', async () => {
    const noToken = await browser.post('/dashboard/verify', { text: signedComment().body })
    expect(noToken.status).toBe(403)
    expect(await noToken.text()).not.toContain('Valid')
    const foreign = await browser.post(
      '/dashboard/verify',
      { _csrf: csrf, text: signedComment().body },
      { origin: 'https://evil.example' },
    )
    expect(foreign.status).toBe(403)
  })
})
