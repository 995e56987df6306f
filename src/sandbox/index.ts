// The sandbox npm start runs without GITEA_URL: a seeded Gitea double and workspace wired to the bot.
export { seedSandboxWorkspace } from './seed-workspace.js'
export {
  SANDBOX_FILE,
  SandboxInfo,
  SANDBOX_LOGINS,
  startSandbox,
  readSandboxInfo,
  type StartSandboxOptions,
  type RunningSandbox,
} from './start-sandbox.js'
export { sandboxDashboard, sandboxLoginLink } from './sandbox-dashboard.js'
