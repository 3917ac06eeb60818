package io.valkeyk8s.testserver;

import io.valkeyk8s.testserver.http.ServeCommand;
import io.valkeyk8s.testserver.keys.KeysCommand;
import io.valkeyk8s.testserver.probe.ProbeCommand;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Entry point of the test server: {@code serve} (HTTP API, optionally with a background probe),
 * {@code probe} (a bounded run that prints a report) or {@code keys} (load and check many keys).
 * Bad settings end with one line and exit 2.
 */
@Command(
    name = "valkey-test-server",
    mixinStandardHelpOptions = true,
    description = "Writes through the primary Service and reports unavailability and lost writes.")
public final class Main implements Runnable {
  /** Exit status for settings that make no sense (picocli uses the same for usage errors). */
  public static final int BAD_INPUT = 2;

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "a command is required: serve, probe or keys");
  }

  /** The command line with its subcommands reading settings from {@code env}. */
  public static CommandLine commandLine(Map<String, String> env) {
    CommandLine cli =
        new CommandLine(new Main())
            .addSubcommand(new ServeCommand(env))
            .addSubcommand(new ProbeCommand(env))
            .addSubcommand(KeysCommand.commandLine(env));
    cli.setExecutionExceptionHandler(
        (error, commandLine, parseResult) -> {
          if (error instanceof IllegalArgumentException) {
            commandLine.getErr().println("error: " + error.getMessage());
            return BAD_INPUT;
          }
          throw error;
        });
    return cli;
  }

  public static void main(String[] args) {
    System.exit(commandLine(System.getenv()).execute(args));
  }
}
