package io.valkeyk8s.testserver.probe;

import io.valkeyk8s.testserver.ConnectionSettings;
import io.valkeyk8s.testserver.http.HttpApi;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code probe}: writes until a bound or SIGTERM, then reads every acknowledged write back and
 * prints the report. Exit 0: nothing lost; 1: acknowledged writes missing; 3: not all read back.
 * With {@code --http-port}, checkpoints during the run: {@code GET /status} and {@code GET /verify}
 * (see {@link HttpApi}).
 */
@Command(
    name = "probe",
    mixinStandardHelpOptions = true,
    description = "Write unique ids continuously, then report unavailability and lost writes.")
public final class ProbeCommand implements Callable<Integer> {
  static final Duration DEFAULT_DURATION = Duration.ofSeconds(60);

  @Mixin ConnectionSettings connection;
  @Mixin ProbeSettings settings;

  @Option(names = "--json", description = "Print the report as JSON.")
  boolean json;

  @Option(
      names = "--writes-csv",
      paramLabel = "FILE",
      description = "Also write every attempted write (id, start, end, latency, result) to FILE.")
  Path writesCsv;

  @Option(
      names = "--http-port",
      paramLabel = "PORT",
      description =
          "Also serve GET /status, GET /verify and GET /healthz on this port while writing.")
  Integer httpPort;

  @Spec CommandSpec spec;

  private final Map<String, String> env;

  public ProbeCommand(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Integer call() throws InterruptedException {
    ProbeOptions options = settings.options(DEFAULT_DURATION);
    if (httpPort != null && (httpPort < 0 || httpPort > 65535)) {
      throw new IllegalArgumentException("--http-port must be a port (0-65535), got: " + httpPort);
    }
    try (ProbeSession session =
            new ProbeSession(
                connection.connector(env), options, settings.verifyTimeout(), settings.runId());
        HttpApi checkpoints = checkpoints(session)) {
      CountDownLatch reported = new CountDownLatch(1);
      // On SIGTERM: stop writing and let this thread verify and print before the JVM exits.
      Thread onTerm =
          new Thread(
              () -> {
                session.stop();
                awaitQuietly(reported, settings.verifyTimeout().plusSeconds(10));
              },
              "probe-shutdown");
      Runtime.getRuntime().addShutdownHook(onTerm);
      try {
        session.run();
        ProbeReport report = session.report();
        if (writesCsv != null) {
          WritesCsv.write(writesCsv, session.clock(), session.attempts());
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? report.toJson() + "\n" : report.toText());
        out.flush();
        return report.exitCode();
      } finally {
        reported.countDown();
        removeQuietly(onTerm);
      }
    }
  }

  /** The HTTP endpoints of {@code --http-port}, started; {@code null} without the option. */
  private HttpApi checkpoints(ProbeSession session) {
    if (httpPort == null) {
      return null;
    }
    try {
      HttpApi api = new HttpApi(new InetSocketAddress("0.0.0.0", httpPort), null, session);
      api.start();
      return api;
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--http-port " + httpPort + ": cannot listen: " + e.getMessage());
    }
  }

  private static void awaitQuietly(CountDownLatch latch, Duration timeout) {
    try {
      latch.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void removeQuietly(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running already
    }
  }
}
