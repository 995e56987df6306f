import type { CommandSpec } from '../src/commands-core/command-spec.js'
import { approve } from './approve.js'
import { ask } from './ask.js'
import { assign } from './assign.js'
import { cancel } from './cancel.js'
import { deny } from './deny.js'
import { help } from './help.js'
import { houses } from './houses.js'
import { implement } from './implement.js'
import { label } from './label.js'
import { predict } from './predict.js'
import { retry } from './retry.js'
import { review } from './review.js'
import { run } from './run.js'
import { status } from './status.js'
import { triage } from './triage.js'
import { unlabel } from './unlabel.js'

/** Every slash command, in the order `/help` lists them. */
export const commands: readonly CommandSpec[] = [
  run,
  ask,
  implement,
  review,
  status,
  cancel,
  retry,
  approve,
  deny,
  houses,
  predict,
  assign,
  label,
  unlabel,
  triage,
  help,
]
