import type { DashboardPage } from '../dashboard-env.js'
import { commandsPage } from './commands-page.js'
import { housesPage } from './houses-page.js'
import { queuesPage } from './queues-page.js'
import { verifyPage } from './verify-page.js'
import { jobPage } from './job-page.js'
import { jobsPage } from './jobs-page.js'

/**
 * The dashboard's pages, in navigation order. A page is one file exporting a `DashboardPage`;
 * add it here and it is routed, guarded (session, CSRF) and, with a `nav`, in the navigation.
 */
export const pages: readonly DashboardPage[] = [
  jobsPage,
  jobPage,
  housesPage,
  verifyPage,
  commandsPage,
  queuesPage,
]
