import { z } from 'zod'
import { isTriggerLabel } from '../../labels/house-label.js'
import { isManagedLabel } from '../../labels/names.js'
import { Secret } from '../config/secret.js'
import { ENV_NAME, readTokenEnv, type TokenEnvRead } from '../config/token-env.js'

/**
 * The `alerts:` section of the YAML config (docs/OPERATIONS.md, "Alerts into Gitea"): where the
 * Alertmanager receiver `POST /alerts/alertmanager` opens its issues and the variable holding its
 * bearer token. Without the section the receiver is off (404).
 *
 * @example
 *   # uw.yaml
 *   alerts:
 *     repo: ops/alerts
 *     tokenEnv: UW_ALERTS_TOKEN
 *     labels: [type/ops]
 */
export const AlertsConfig = z
  .object({
    /** The repository (`owner/name`) that gets one issue per alert group. */
    repo: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'a repository as owner/name')
      .transform((s) => {
        const [owner = '', name = ''] = s.split('/')
        return { owner, name }
      }),
    /** The environment variable holding the bearer token Alertmanager sends (`credentials_file`). */
    tokenEnv: z.string().regex(ENV_NAME, 'an environment variable name such as UW_ALERTS_TOKEN'),
    /** Filled in by `loadConfig` from `tokenEnv`, or given by a library caller. */
    token: z.instanceof(Secret, { message: 'no token here: name its environment variable with tokenEnv' }),
    /**
     * Catalogue labels every alert issue gets (after the ones an alert names in its `gitea_labels`
     * annotation; one per exclusive scope). Never a label that acts (`house/*`): alert text must
     * not route commands or start a house's task.
     */
    labels: z
      .array(
        z
          .string()
          .refine(isManagedLabel, {
            error: (iss) =>
              `${JSON.stringify(iss.input)} is not in the label catalogue (labels/catalogue.yaml)`,
          })
          .refine((l) => !isTriggerLabel(l), {
            error: (iss) =>
              `${JSON.stringify(iss.input)} routes commands and can start a house's agent task (commands.agents.labelTriggers); alert issues may not carry it`,
          }),
      )
      .default(['type/ops']),
    /** Largest notification body accepted (413 above). */
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024),
  })
  .strict()
export type AlertsConfig = z.infer<typeof AlertsConfig>

/**
 * Fills `alerts.token` from the variable `alerts.tokenEnv` names, before the file is parsed.
 *
 * @example
 *   readAlertsEnv({ alerts: { repo: 'ops/alerts', tokenEnv: 'UW_ALERTS_TOKEN' } }, process.env)
 */
export function readAlertsEnv(input: unknown, env: Record<string, string | undefined>): TokenEnvRead {
  return readTokenEnv(input, env, 'alerts', "the Alertmanager receiver's bearer token")
}
