import type { JobView } from '../jobs/jobs.js'

function sameLogin(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

function logins(list: readonly string[]): string {
  return list.map((l) => `@${l}`).join(', ')
}

/**
 * Why `login` may not decide on `job`, or undefined when they may. The command-level `sovereign`
 * permission admits every house's sovereigns; a job can only be approved by the sovereigns of its
 * own house (the worker's harness checks the same list), and not by its requester unless the
 * house allows self-approval. Refusing here keeps the job waiting instead of letting the worker
 * deny it after the bot said "Approved". `/deny` passes `self: 'allowed'`: a requester may always
 * withdraw their own request (as `/cancel` would).
 *
 * @example
 *   approverRefusal(job, 'mallory', 'approve') // '@mallory, you are not a sovereign of house **bezalel**, so …'
 */
export function approverRefusal(
  job: JobView,
  login: string,
  verb: 'approve' | 'deny',
  self: 'checked' | 'allowed' = verb === 'approve' ? 'checked' : 'allowed',
): string | undefined {
  const done = verb === 'approve' ? 'approved' : 'denied'
  const eligible = job.approvers.filter(
    (a) => self === 'allowed' || job.allowSelfApproval || !sameLogin(a, job.requester),
  )
  const who =
    eligible.length > 0
      ? `it can be ${done} only by ${logins(eligible)}`
      : `no sovereign can ${verb} it (add one to \`houses.${job.house}.sovereigns\`)`
  if (!job.approvers.some((a) => sameLogin(a, login))) {
    return `@${login}, you are not a sovereign of house **${job.house}**, so job \`${job.id}\` is not ${done}: ${who}. It keeps waiting.`
  }
  if (self === 'checked' && sameLogin(login, job.requester) && !job.allowSelfApproval) {
    return `@${login}, you asked for job \`${job.id}\` yourself and house **${job.house}** does not allow self-approval, so it is not ${done}: ${who}. It keeps waiting.`
  }
  return undefined
}
