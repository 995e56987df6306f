// The dashboard in a real browser: Debian's Chromium driven by playwright-core, against the whole
// loop (Gitea double over HTTP, ingress, router, workers, reporter, Redis). An operator logs in
// (Login with Gitea against the double, and the token form), opens the jobs page, runs a command
// and watches its job page update live, verifies the result, sees a viewer refused a cancel, and
// tabs through the pages; axe-core checks every page. Screenshots of each page go to
// test-results/screenshots/ on every run, and to docs/screenshots/ (what the README shows) with
// UW_UPDATE_SCREENSHOTS=1, so a test run does not leave the committed pictures modified.
import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Secret } from '../../src/config/secret.js'
import { packageRoot } from '../../src/package-root.js'
import { ackState, LoopWorld, until } from '../e2e/loop-world.js'

const CHROMIUM = '/usr/bin/chromium'
const ADMIN_TOKEN = 'browser-admin-token-0123456789'
const VIEWER_TOKEN = 'browser-viewer-token-0123456789'
const SESSION_SECRET = 'browser-session-secret-0123456789abcdefghij'
const SHOTS = process.env.UW_UPDATE_SCREENSHOTS
  ? join(packageRoot(), 'docs', 'screenshots')
  : join(packageRoot(), 'test-results', 'screenshots')
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

let world: LoopWorld
let browser: Browser
let base: string
let issue: number

beforeAll(async () => {
  world = await new LoopWorld({
    configure: (config, w) => {
      const url = `http://127.0.0.1:${config.env.PORT}`
      const app = w.gitea.double.createOAuthApp({
        name: 'uni-wizard dashboard',
        redirectUris: [`${url}/dashboard/oauth/callback`],
      })
      return {
        ...config,
        file: {
          ...config.file,
          dashboard: {
            ...config.file.dashboard,
            enabled: true,
            publicUrl: url,
            sessionSecret: new Secret(SESSION_SECRET),
            admins: ['sage'],
            oauth: {
              clientId: app.clientId,
              clientSecretEnv: 'X',
              clientSecret: new Secret(app.clientSecret),
            },
            tokens: [
              { tokenEnv: 'A', token: new Secret(ADMIN_TOKEN), login: 'ann', role: 'admin', seeAll: false },
              { tokenEnv: 'V', token: new Secret(VIEWER_TOKEN), login: 'vic', role: 'viewer', seeAll: true },
            ],
          },
        },
      }
    },
  }).start()
  base = `${world.services.httpUrl}/dashboard`
  issue = await world.openIssue('Check the demo')
  mkdirSync(SHOTS, { recursive: true })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium's sandbox refuses to run as root (CI containers); as a normal user it stays on.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await world?.stop()
})

/** A page that fails the test on any script error or CSP violation (bull-board's web font aside). */
async function newPage(): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  page.on('console', (m) => {
    // Failed loads are judged by their responses below (favicon.ico is nobody's).
    if (m.type() !== 'error' || m.text().startsWith('Failed to load resource')) return
    if (!m.text().includes('fonts.googleapis.com')) problems.push(m.text())
  })
  page.on('response', (r) => {
    if ((r.status() === 404 || r.status() >= 500) && !r.url().endsWith('/favicon.ico'))
      problems.push(`${r.status()} ${r.url()}`)
  })
  return { page, problems }
}

/** axe-core on the page: no serious or critical violation (labels, contrast, keyboard, ...). */
async function expectAccessible(page: Page): Promise<void> {
  // Evaluated through the DevTools protocol: the pages' CSP (rightly) refuses an injected <script>.
  await page.evaluate(AXE)
  const violations = await page.evaluate<string[]>(`axe.run().then((r) => r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`)
  expect(violations).toEqual([])
}

const shot = (page: Page, name: string, fullPage = true) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage })

async function logInWithToken(page: Page, token: string): Promise<void> {
  await page.goto(`${base}/login`)
  await page.locator('input[name="token"]').fill(token)
  await page.getByRole('button', { name: 'Log in', exact: true }).click()
  await page.waitForURL(/\/dashboard\/jobs/)
}

/** Posts `/run slow ...` as the writer and waits for its job to run: the job id. */
async function runSlowJob(seconds: number): Promise<string> {
  const acks = () => world.botComments(issue).flatMap((c) => ackState(c.body) ?? [])
  const before = new Set(acks().map((a) => a.jobId))
  await world.comment('writer', issue, `/run slow seconds=${seconds} @ezra`)
  return until(
    'the slow job running',
    () => acks().find((a) => !before.has(a.jobId) && a.state === 'running')?.jobId,
    20_000,
  )
}

describe('the dashboard in Chromium', { timeout: 90_000 }, () => {
  it('logs in with Gitea (OAuth2 against the double) as the writer', async () => {
    const { page, problems } = await newPage()
    await page.goto(`${base}/jobs`)
    await expect.poll(() => page.url()).toContain('/dashboard/login')
    await shot(page, 'login')
    await expectAccessible(page)
    await page.getByRole('link', { name: 'Log in with Gitea' }).click()
    await page.getByRole('button', { name: 'wren' }).click()
    await page.waitForURL(/\/dashboard\/jobs/)
    expect(await page.locator('.who').innerText()).toContain('wren')
    expect(problems).toEqual([])
    await page.context().close()
  })

  it('runs a command and watches its job page update live, then verifies its result', async () => {
    const { page, problems } = await newPage()
    await logInWithToken(page, ADMIN_TOKEN)
    // Events the page's script appends to the timeline, kept across the reload at the end.
    const live: string[] = []
    await page.exposeFunction('uwTimelineAdded', (text: string) => live.push(text))
    await page.addInitScript(`document.addEventListener('DOMContentLoaded', () => {
      const list = document.querySelector('ol.timeline')
      if (!list) return
      new MutationObserver((records) => {
        for (const r of records) for (const n of r.addedNodes) window.uwTimelineAdded(n.textContent || '')
      }).observe(list, { childList: true })
    })`)
    const jobId = await runSlowJob(3)

    await page.goto(`${base}/jobs`)
    await expect.poll(() => page.locator(`a[href="/dashboard/jobs/${jobId}"]`).count()).toBe(1)
    await shot(page, 'jobs')
    await expectAccessible(page)

    await page.locator(`a[href="/dashboard/jobs/${jobId}"]`).click()
    await expect.poll(() => page.locator('ol.timeline[data-events]').count()).toBe(1)
    await shot(page, 'job-running')
    // The job ends while the page is open: its events arrive over SSE, then the page reloads final.
    await page.locator('ol.timeline[data-events]').waitFor({ state: 'detached', timeout: 20_000 })
    expect(live.some((t) => /finished/.test(t))).toBe(true)
    await expect.poll(() => page.locator('.state').first().innerText()).toBe('success')
    expect(await page.locator('#provenance').locator('..').innerText()).toContain('Verified')
    await shot(page, 'job')
    await expectAccessible(page)

    // Its result comment, pasted into the verify page, proves what it says.
    const ack = await world.finalAck(issue, jobId)
    await page.getByRole('link', { name: 'Verify' }).click()
    await page.getByLabel('Result comment (its Markdown) or DSSE envelope (JSON)').fill(ack.body)
    await page.getByRole('button', { name: 'Verify' }).click()
    await expect.poll(() => page.locator('#verdict').innerText()).toBe('Valid')
    expect(await page.locator('[role=status]').innerText()).toContain('Signed by ezra')
    await shot(page, 'verify')
    await expectAccessible(page)
    expect(problems).toEqual([])
    await page.context().close()
  })

  it('shows a viewer no cancel button and refuses the cancel they send anyway', async () => {
    const { page, problems } = await newPage()
    await logInWithToken(page, VIEWER_TOKEN)
    const jobId = await runSlowJob(4)
    await page.goto(`${base}/jobs/${jobId}`)
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0)
    // The form an admin would get, sent by the viewer's browser with the viewer's session.
    await page.evaluate(`(() => {
      const form = document.createElement('form')
      form.method = 'post'
      form.action = '/dashboard/jobs/${jobId}/cancel'
      form.appendChild(document.querySelector('input[name="_csrf"]').cloneNode())
      document.body.appendChild(form)
      form.submit()
    })()`)
    await page.waitForURL(/\/cancel$/)
    expect(await page.locator('h1').innerText()).toBe('Cancel refused')
    expect(await page.locator('[role=alert]').innerText()).toMatch(/vic/)
    await shot(page, 'cancel-refused')
    // Nothing was cancelled: the job ends in success.
    expect(ackState((await world.finalAck(issue, jobId)).body)?.state).toBe('success')
    expect(problems).toEqual([])
    await page.context().close()
  })

  it('houses, commands and queues pages: accessible, keyboard-usable, bull-board working under the CSP', async () => {
    const { page, problems } = await newPage()
    await logInWithToken(page, ADMIN_TOKEN)

    // Keyboard: the skip link first, then the brand and every nav entry in order.
    await page.goto(`${base}/houses`)
    const focused: string[] = []
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab')
      focused.push(await page.evaluate<string>("(document.activeElement?.textContent ?? '').trim()"))
    }
    expect(focused).toEqual([
      'Skip to content',
      'uni-wizard',
      'Jobs',
      'Houses',
      'Verify',
      'Commands',
      'Queues',
      'Log out',
    ])
    expect(await page.locator('#house-ezra').innerText()).toBe('ezra')
    await shot(page, 'houses')
    await expectAccessible(page)

    // The verify form by keyboard: tab into the text, type, tab to the button, Enter.
    await page.goto(`${base}/verify`)
    await page.locator('#verify-text').focus()
    await page.keyboard.type('{"payloadType":"x","payload":"eA==","signatures":[]}')
    await page.keyboard.press('Tab')
    expect(await page.evaluate<string>('document.activeElement?.textContent')).toBe('Verify')
    await page.keyboard.press('Enter')
    await expect.poll(() => page.locator('#verdict').innerText()).toBe('Not valid')

    await page.goto(`${base}/commands`)
    await shot(page, 'commands', false)
    await expectAccessible(page)

    await page.goto(`${base}/queues`)
    await expect.poll(() => page.getByText('house-ezra').count(), { timeout: 15_000 }).toBeGreaterThan(0)
    // An admin's board: the house queue with its completed jobs.
    await page.getByText('house-ezra').first().click()
    await page.waitForLoadState('networkidle')
    await shot(page, 'queues')
    expect(problems).toEqual([])
    await page.context().close()
  })
})
