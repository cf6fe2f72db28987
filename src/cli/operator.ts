/**
 * What the operator's commands (user:add, devices:revoke) share: a usage error, and how a
 * command ends. Each prints one line and exits 0 done, 1 refused (the command's own
 * answer, or an error it did not expect), 2 usage.
 */
export class UsageError extends Error {}

/** Runs `main` with the command line's arguments and sets the exit code from what it returned or threw. */
export function runOperatorCommand(name: string, main: (args: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = err instanceof UsageError ? 2 : 1;
    },
  );
}
