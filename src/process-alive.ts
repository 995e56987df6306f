/**
 * Whether a process with this pid exists (signal 0 checks without sending anything). EPERM means it
 * exists but is another user's. A pid that is not a positive integer is never alive: `kill(0)` and
 * negative pids would address process groups.
 *
 * @example
 *   processAlive(process.pid) // true
 */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
