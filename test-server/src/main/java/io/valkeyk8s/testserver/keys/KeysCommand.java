package io.valkeyk8s.testserver.keys;

import io.valkeyk8s.testserver.ConnectionSettings;
import io.valkeyk8s.testserver.DurationConverter;
import io.valkeyk8s.testserver.ValkeyConnection;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code keys load} and {@code keys check}: many keys written before a scaling sequence and checked
 * after each step. One line of counts on stdout; exit 0 all fine, 1 keys missing or wrong, 3 keys
 * that could not be written or read (Valkey unreachable until {@code --retry-for} ran out).
 */
@Command(
    name = "keys",
    mixinStandardHelpOptions = true,
    description = "Load many keys, or check that they are all still there.")
public final class KeysCommand implements Runnable {
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "a keys command is required: load or check");
  }

  /** {@code keys} with its two subcommands reading settings from {@code env}. */
  public static CommandLine commandLine(Map<String, String> env) {
    return new CommandLine(new KeysCommand())
        .addSubcommand(new Load(env))
        .addSubcommand(new Check(env));
  }

  /** The options load and check share. */
  static final class KeyOptions {
    @Option(
        names = "--count",
        required = true,
        description = "How many keys: <prefix>:1 .. <prefix>:<count>.")
    long count;

    @Option(names = "--prefix", required = true, description = "Key prefix.")
    String prefix;

    @Option(
        names = "--value-size",
        defaultValue = "32",
        description =
            "Bytes per value (default: ${DEFAULT-VALUE}); check with the size the keys were"
                + " loaded with.")
    int valueSize;

    @Option(
        names = "--retry-for",
        defaultValue = "30s",
        converter = DurationConverter.class,
        description =
            "How long to retry keys whose command failed, per batch (default: ${DEFAULT-VALUE}).")
    Duration retryFor;

    void validate() {
      if (count < 1 || count > 100_000_000) {
        throw new IllegalArgumentException("--count must be 1 to 100000000, got: " + count);
      }
      if (prefix.isBlank() || prefix.chars().anyMatch(Character::isWhitespace)) {
        throw new IllegalArgumentException(
            "--prefix must be a non-empty word without spaces, got: '" + prefix + "'");
      }
      if (valueSize < 1 || valueSize > 1024 * 1024) {
        throw new IllegalArgumentException(
            "--value-size must be 1 to 1048576 bytes, got: " + valueSize);
      }
    }

    String range() {
      return prefix + ":1 .. " + prefix + ":" + count;
    }
  }

  @Command(
      name = "load",
      mixinStandardHelpOptions = true,
      description = "Write <prefix>:1 .. <prefix>:<count> (no expiry), pipelined.")
  static final class Load implements Callable<Integer> {
    @Mixin ConnectionSettings connection;
    @Mixin KeyOptions keys;
    @Spec CommandSpec spec;
    private final Map<String, String> env;

    Load(Map<String, String> env) {
      this.env = env;
    }

    @Override
    public Integer call() {
      keys.validate();
      try (ValkeyConnection valkey = connection.connector(env, DEFAULT_TIMEOUT).open()) {
        BulkKeys.Loaded loaded =
            new BulkKeys(valkey, keys.prefix, keys.valueSize, keys.retryFor).load(keys.count);
        PrintWriter out = spec.commandLine().getOut();
        out.printf(
            Locale.ROOT,
            "keys load: %d of %d keys written (%s, %d-byte values) in %.1f s (%d keys/s)%s%n",
            loaded.written(),
            keys.count,
            keys.range(),
            keys.valueSize,
            seconds(loaded.took()),
            perSecond(loaded.written(), loaded.took()),
            loaded.failed() == 0 ? "" : "; " + loaded.failed() + " NOT written: " + loaded.error());
        out.flush();
        return loaded.failed() == 0 ? 0 : 3;
      }
    }
  }

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = "Check that <prefix>:1 .. <prefix>:<count> all hold the values load wrote.")
  static final class Check implements Callable<Integer> {
    @Mixin ConnectionSettings connection;
    @Mixin KeyOptions keys;
    @Spec CommandSpec spec;
    private final Map<String, String> env;

    Check(Map<String, String> env) {
      this.env = env;
    }

    @Override
    public Integer call() {
      keys.validate();
      try (ValkeyConnection valkey = connection.connector(env, DEFAULT_TIMEOUT).open()) {
        BulkKeys.Checked checked =
            new BulkKeys(valkey, keys.prefix, keys.valueSize, keys.retryFor).check(keys.count);
        PrintWriter out = spec.commandLine().getOut();
        out.printf(
            Locale.ROOT,
            "keys check: %d keys (%s): %d ok, %d missing, %d wrong%s in %.1f s (%d keys/s)%s%s%n",
            keys.count,
            keys.range(),
            checked.ok(),
            checked.missing(),
            checked.wrong(),
            checked.unread() == 0 ? "" : ", " + checked.unread() + " NOT read",
            seconds(checked.took()),
            perSecond(keys.count - checked.unread(), checked.took()),
            checked.examples().isEmpty() ? "" : "; first: " + String.join(", ", checked.examples()),
            checked.unread() == 0 ? "" : "; " + checked.error());
        out.flush();
        if (checked.missing() > 0 || checked.wrong() > 0) {
          return 1;
        }
        return checked.unread() == 0 ? 0 : 3;
      }
    }
  }

  private static double seconds(Duration took) {
    return took.toMillis() / 1000.0;
  }

  private static long perSecond(long keys, Duration took) {
    return took.isZero() ? keys : keys * 1000 / Math.max(1, took.toMillis());
  }
}
