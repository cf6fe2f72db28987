/**
 * What every command shares (the operator's user:* and devices:revoke here, and the
 * captcha research commands in scripts/captcha/): a usage error, and how a command ends.
 * Each prints one line and exits 0 done, 1 refused (the command's own answer, or an error
 * it did not expect), 2 usage (with the usage line, when the command has one).
 */
export class UsageError extends Error {}

/** Runs `main` with the command line's arguments and sets the exit code from what it returned or threw. */
export function runOperatorCommand(name: string, main: (args: string[]) => Promise<number>, usage?: string): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const usageLine = err instanceof UsageError && usage !== undefined ? `\n${usage}` : '';
      console.error(`${name}: ${err instanceof Error ? err.message : String(err)}${usageLine}`);
      process.exitCode = err instanceof UsageError ? 2 : 1;
    },
  );
}
