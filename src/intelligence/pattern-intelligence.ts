import { ANY_SHAPE, argShape } from './arg-shape.js'
import type { FailureKind } from './failure-kind.js'
import { TRANSIENT_KINDS } from './failure-kind.js'
import type { IntelligenceConfig } from './intelligence-config.js'
import type { HouseToolSummary, IntelligenceView, PredictionDetail } from './intelligence-view.js'
import type { PatternStore } from './pattern-store.js'
import { adaptiveTimeout, predictCall, predictFrom, retryAdvice, type Prediction } from './predict.js'
import { velocity } from './velocity.js'

/**
 * Predictions over a pattern store, for commands, the CLI and metrics.
 *
 * @example
 *   const intel = new PatternIntelligence({ store, config: file.intelligence })
 *   const p = await intel.predict('bezalel', 'deploy')
 */
export class PatternIntelligence implements IntelligenceView {
  readonly settings: IntelligenceView['settings']
  private readonly now: () => number

  constructor(
    private readonly opts: {
      store: PatternStore
      config: IntelligenceConfig
      /** The tool's configured per-attempt timeout on the house, for the adapted one. */
      configuredTimeout?: (house: string, tool: string) => number | undefined
      now?: () => number
    },
  ) {
    this.now = opts.now ?? Date.now
    const c = opts.config
    this.settings = { successFloor: c.successFloor, minSamples: c.minSamples, halfLifeHours: c.halfLifeHours }
  }

  async predict(house: string, tool: string, args?: Record<string, string>): Promise<Prediction> {
    const shape = args === undefined ? ANY_SHAPE : argShape(args)
    return predictCall(await this.opts.store.read({ house, tool, shape }), {
      now: this.now(),
      config: this.opts.config,
    })
  }

  async detail(house: string, tool: string, args?: Record<string, string>): Promise<PredictionDetail> {
    const shape = args === undefined ? ANY_SHAPE : argShape(args)
    const now = this.now()
    const config = this.opts.config
    const read = await this.opts.store.read({ house, tool, shape })
    const prediction = predictCall(read, { now, config })
    const configuredTimeoutMs = this.opts.configuredTimeout?.(house, tool)
    const kinds = Object.keys(read.total.retries) as FailureKind[]
    return {
      ...this.summary(house, tool, prediction, read.total.days, now),
      shape,
      configuredTimeoutMs,
      timeout:
        configuredTimeoutMs === undefined
          ? undefined
          : adaptiveTimeout(prediction, configuredTimeoutMs, config.timeout),
      retries: kinds
        .filter((k) => TRANSIENT_KINDS.has(k))
        .map((kind) => ({ kind, advice: retryAdvice(read.total, kind, { now, config }) })),
    }
  }

  async overview(): Promise<HouseToolSummary[]> {
    const now = this.now()
    const pairs = await this.opts.store.list()
    const rows = await Promise.all(
      pairs.map(async ({ house, tool }) => {
        const { total } = await this.opts.store.read({ house, tool })
        return this.summary(
          house,
          tool,
          predictFrom(total, { now, config: this.opts.config }),
          total.days,
          now,
        )
      }),
    )
    return rows.sort((a, b) => a.house.localeCompare(b.house) || a.tool.localeCompare(b.tool))
  }

  private summary(
    house: string,
    tool: string,
    prediction: Prediction,
    days: Parameters<typeof velocity>[0],
    now: number,
  ): HouseToolSummary {
    return {
      house,
      tool,
      prediction,
      belowFloor: prediction.enough && prediction.successProbability < this.opts.config.successFloor,
      velocity: velocity(days, now),
    }
  }
}
