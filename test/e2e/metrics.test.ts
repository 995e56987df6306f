import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { samples, valueOf, type Sample } from '../helpers/prom-text.js'
import { LoopWorld, until } from './loop-world.js'

describe('/metrics of a running loop', () => {
  // Workers for two of the four configured houses run here; allegro and bezalel have none.
  const world = new LoopWorld()
  beforeAll(async () => {
    await world.start({ ingress: true, router: true, reporter: true, workers: ['timmy', 'ezra'] })
  })
  afterAll(() => world.stop())

  async function scrape(): Promise<Sample[]> {
    const res = await fetch(`${world.services.httpUrl}/metrics`)
    expect(res.status).toBe(200)
    return samples(await res.text())
  }

  it('shows live workers per configured house, 0 for a house with none', async () => {
    const alive = await until('both workers beating', async () => {
      const all = await scrape()
      return valueOf(all, 'uw_house_workers_alive', { house: 'ezra' }) === 1 ? all : undefined
    })
    const byHouse = Object.fromEntries(
      alive.filter((s) => s.name === 'uw_house_workers_alive').map((s) => [s.labels.house, s.value]),
    )
    expect(byHouse).toEqual({ timmy: 1, ezra: 1, bezalel: 0, allegro: 0 })
  })
})
