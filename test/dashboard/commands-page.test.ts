// The command help page: generated from the command specs, readable without logging in; /help
// links to it when the dashboard has a public URL.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { commands } from '../../commands/index.js'
import { slashCommands } from '../../handlers/slash-commands.js'
import { dashboardLink } from '../../src/dashboard/dashboard-links.js'
import { commentEvent, world as commandWorld } from '../commands/helpers/world.js'
import { Browser, dashboardWorld, VIEWER_TOKEN, type DashboardWorld } from './dashboard-world.js'

let world: DashboardWorld
beforeEach(async () => {
  world = await dashboardWorld()
})
afterEach(async () => {
  await world.close()
})

describe('the command help page', () => {
  it('is readable without logging in, with every command from the specs', async () => {
    const res = await new Browser(world).request('/dashboard/commands')
    expect(res.status).toBe(200)
    const html = await res.text()
    for (const c of commands) {
      expect(html).toContain(`<h2 id="command-${c.name}"><code>/${c.name}</code></h2>`)
      expect(html).toContain(`href="/dashboard/commands#command-${c.name}"`)
      for (const e of c.help.examples)
        expect(html).toContain(e.replace(/&/g, '&amp;').replace(/"/g, '&quot;'))
    }
    // Markdown code spans become <code>; the nav is not shown to someone not logged in.
    expect(html).toContain('<code>/approve &lt;job&gt; &lt;request&gt;</code>')
    expect(html).not.toContain('aria-label="Dashboard"')
  })

  it('is in the navigation once logged in', async () => {
    const b = new Browser(world)
    await b.logInWithToken(VIEWER_TOKEN)
    const html = await (await b.request('/dashboard/commands')).text()
    expect(html).toMatch(/<a href="\/dashboard\/commands" aria-current="page">Commands<\/a>/)
  })

  it('opens nothing else without a session', async () => {
    const res = await new Browser(world).request('/dashboard/houses')
    expect(res.status).toBe(303)
  })
})

describe('dashboardLink', () => {
  it.each([
    [
      { enabled: true, basePath: '/dashboard', publicUrl: 'https://bot.example.com/' },
      'https://bot.example.com/dashboard/commands',
    ],
    [
      { enabled: true, basePath: '/ops/board', publicUrl: 'https://bot.example.com' },
      'https://bot.example.com/ops/board/commands',
    ],
    [{ enabled: true, basePath: '/dashboard', publicUrl: undefined }, undefined],
    [{ enabled: false, basePath: '/dashboard', publicUrl: 'https://bot.example.com' }, undefined],
  ])('%j', (config, expected) => {
    expect(dashboardLink(config, '/commands')).toBe(expected)
  })
})

describe('/help', () => {
  const url = 'https://bot.example.com/dashboard/commands'
  const bodyOf = async (text: string, commandHelpUrl?: string) => {
    const w = commandWorld()
    const event = commentEvent(text)
    const effects = await slashCommands.handle(event, {
      ...w.ctx(event),
      ...(commandHelpUrl && { commandHelpUrl }),
    })
    const reply = effects.find((e) => e.type === 'comment')
    return reply && 'body' in reply ? reply.body : ''
  }

  it('links to the command help page when the dashboard has a public URL', async () => {
    expect(await bodyOf('/help', url)).toContain(`All commands on one page: ${url}`)
    expect(await bodyOf('/help run', url)).toContain(`${url}#command-run`)
  })

  it('has no link without one', async () => {
    const body = await bodyOf('/help')
    expect(body).toContain('| Command |')
    expect(body).not.toContain('All commands on one page')
  })
})
