import type { DashboardConfig } from './dashboard-config.js'

/**
 * The public link to a dashboard page, for messages people read in Gitea (`/help` links to the
 * command help page): only when the dashboard is enabled and has a configured `publicUrl`; the
 * default loopback address is not a link anyone else could open.
 *
 * @example
 *   dashboardLink({ enabled: true, basePath: '/dashboard', publicUrl: 'https://bot.example.com', ... }, '/commands')
 *   // 'https://bot.example.com/dashboard/commands'
 */
export function dashboardLink(
  config: Pick<DashboardConfig, 'enabled' | 'basePath' | 'publicUrl'>,
  path: string,
): string | undefined {
  if (!config.enabled || !config.publicUrl) return undefined
  return `${config.publicUrl.replace(/\/+$/, '')}${config.basePath}${path}`
}
