/**
 * The layout rules of uni-wizard (docs/ARCHITECTURE.md, "Rules"), checked by `npm run lint:layout`
 * inside `npm test`. A break names the rule; its `comment` says why the rule exists.
 */

// Packages that speak to infrastructure directly: the queue library, the Redis client, the Gitea
// client library and the HTTP framework (matched on the resolved path, as dependency-cruiser does).
const INFRA = '(^|/)node_modules/(bullmq|ioredis|gitea-js|hono|@hono/[^/]+)/'
const BULLMQ_IOREDIS = '(^|/)node_modules/(bullmq|ioredis)/'
// The rooms of the bot loop, which the rooms any process may use (tools, checkouts, agents) never import.
const LOOP_ROOMS = '^src/(daemon|router|server|effects|jobs|workers|report)/'

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment:
        'No module imports a module that imports it back, directly or through others (type-only imports count). ' +
        'Move the shared piece into its own file, or put a narrow interface where the consumer lives.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'content-sees-narrow-interfaces',
      severity: 'error',
      comment:
        'handlers/, commands/ and labels/ decide; they see the narrow interfaces of src/ (contexts, effects, ports), ' +
        'never bullmq, ioredis, gitea-js or hono, nor any module that reaches them.',
      from: { path: '^(handlers|commands|labels)/' },
      to: {
        path: INFRA,
        dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
      },
    },
    {
      name: 'content-never-reaches-infrastructure',
      severity: 'error',
      comment:
        'handlers/, commands/ and labels/ never import a module that (through any chain) imports bullmq, ioredis, ' +
        'gitea-js or hono: they get the world through HandlerContext and return effects.',
      from: { path: '^(handlers|commands|labels)/' },
      to: { reachable: true, path: INFRA },
    },
    {
      name: 'only-queue-and-jobs-import-bullmq-ioredis',
      severity: 'error',
      comment:
        'src/queue/ (connections, queue names, the consumer pieces) and src/jobs/ (job records and queues) are the ' +
        'only rooms that import bullmq or ioredis; others take a RedisClient and QueueWorker from src/queue/.',
      from: { pathNot: '^(src/queue|src/jobs)/' },
      to: { path: BULLMQ_IOREDIS },
    },
    {
      name: 'tools-stay-out-of-the-loop',
      severity: 'error',
      comment:
        'Tools are used by the harness in any process (CLI, library, worker); they never import the daemon, ' +
        'the router, the server or the other rooms of the bot loop.',
      from: { path: '^src/tools/' },
      to: { path: LOOP_ROOMS },
    },
    {
      name: 'checkouts-stay-out-of-the-loop',
      severity: 'error',
      comment:
        'Checkouts (mirrors and per-job clones) are asked for by workers and used with tools/exec and the git ' +
        'hardening; they never import the daemon, the router, the server or the other rooms of the bot loop.',
      from: { path: '^src/checkouts/' },
      to: { path: LOOP_ROOMS },
    },
    {
      name: 'agents-stay-out-of-the-loop',
      severity: 'error',
      comment:
        'Agent backends (src/agents/: the port, the Hermes and OpenAI-compatible clients, their doubles, prompt safety) ' +
        'are driven by a worker through AgentRunContext; they never import the daemon, the router, the server, the ' +
        'effects, the jobs, the workers or the reporter.',
      from: { path: '^src/agents/' },
      to: { path: LOOP_ROOMS },
    },
    {
      name: 'dashboard-never-runs-tools',
      severity: 'error',
      comment:
        'The dashboard (src/dashboard/) reads job records, listings, telemetry and run logs, and cancels or retries ' +
        'through the job system; it never imports what runs tools or agents: tools, the harness, agent backends, ' +
        'checkouts, the house workers or the router.',
      from: { path: '^src/dashboard/' },
      to: { path: '^src/(tools|harness|agents|checkouts|workers|router)/' },
    },
    {
      name: 'src-never-imports-tests-or-bench',
      severity: 'error',
      comment: 'Shipped code never depends on tests, benchmarks or scripts.',
      from: { path: '^(src|handlers|commands|labels)/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
}
