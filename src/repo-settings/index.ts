// Per-repository settings (`.uni-wizard.yaml` on the default branch) and the proof commands they name.
export {
  DEFAULT_REPO_SETTINGS,
  PROOF_MAX_TIMEOUT_MS,
  REPO_SETTINGS_FILE,
  ProofCommand,
  RepoSettings,
  houseAllowed,
} from './repo-settings.js'
export {
  REPO_SETTINGS_MAX_BYTES,
  readRepoSettings,
  type ReadRepoSettingsOptions,
  type RepoSettingsRead,
} from './read-repo-settings.js'
export { repoSettingsProblemEffect } from './repo-settings-problem.js'
export {
  runProofCommands,
  type ProofEvidence,
  type ProofRun,
  type RunProofOptions,
} from './run-proof-commands.js'
