// One run of the client: the command line read, the command run, and every way it can end turned into an exit code.
import { parseCommand, USAGE } from "./args";
import { get, status, submit, type Io } from "./commands";
import { ApiError, ArgumentError, EXIT, UsageError } from "./errors";
import { terminalSafe } from "./format";
import { clientDefaults } from "./settings";

export async function run(argv: string[], io: Io): Promise<number> {
  try {
    const command = parseCommand(argv, clientDefaults(io.env));
    switch (command.kind) {
      case "help":
        io.stdout.write(USAGE);
        return EXIT.ok;
      case "submit":
        return await submit(command, io);
      case "get":
        return await get(command, io);
      case "status":
        return await status(command, io);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const hint = error instanceof ArgumentError ? "Run hashscan --help for the commands and options.\n" : "";
      io.stderr.write(`hashscan: ${error.message}\n${hint}`);
      return EXIT.error;
    }
    if (error instanceof ApiError) {
      // A server's words: whatever --server points at must not drive the terminal.
      io.stderr.write(`hashscan: ${terminalSafe(error.message)}\n`);
      return EXIT.error;
    }
    throw error;
  }
}
