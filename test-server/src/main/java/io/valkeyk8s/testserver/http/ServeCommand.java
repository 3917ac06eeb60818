package io.valkeyk8s.testserver.http;

import io.valkeyk8s.testserver.ConnectionSettings;
import io.valkeyk8s.testserver.Connector;
import io.valkeyk8s.testserver.ValkeyConnection;
import io.valkeyk8s.testserver.probe.ProbeSession;
import io.valkeyk8s.testserver.probe.ProbeSettings;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code serve}: the HTTP API until SIGTERM; with {@code --probe} also a probe in the background
 * whose report is {@code GET /status} and {@code GET /verify} and is printed once more at shutdown.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = "Serve HTTP endpoints that write and read through the primary Service.")
public final class ServeCommand implements Callable<Integer> {
  @Mixin ConnectionSettings connection;
  @Mixin ProbeSettings probeSettings;

  @Option(
      names = "--port",
      defaultValue = "${env:HTTP_PORT:-8080}",
      description = "HTTP port (default: HTTP_PORT or 8080).")
  int port;

  @Option(names = "--bind", defaultValue = "0.0.0.0", description = "Address to listen on.")
  String bind;

  @Option(
      names = "--probe",
      description = "Also run a probe in the background (GET /status, GET /verify).")
  boolean probe;

  @Spec CommandSpec spec;

  private final Map<String, String> env;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final CountDownLatch finished = new CountDownLatch(1);

  public ServeCommand(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Integer call() throws Exception {
    Connector connector = connection.connector(env);
    ProbeSession session =
        probe
            ? new ProbeSession(
                connector,
                probeSettings.options(null),
                probeSettings.verifyTimeout(),
                probeSettings.runId())
            : null;
    try (ValkeyConnection valkey = connector.open();
        HttpApi api = new HttpApi(new InetSocketAddress(bind, port), valkey, session)) {
      api.start();
      Thread writer = null;
      if (session != null) {
        writer = Thread.ofPlatform().name("probe").daemon().start(session::run);
      }
      // On SIGTERM: wake this thread and give it time to print the last report.
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    stopped.countDown();
                    awaitQuietly(finished, probeSettings.verifyTimeout().plusSeconds(10));
                  },
                  "serve-shutdown"));
      stopped.await();
      if (session != null) {
        session.stop();
        writer.join(5_000);
        spec.commandLine().getOut().print(session.report().toText());
        spec.commandLine().getOut().flush();
      }
      return 0;
    } finally {
      if (session != null) {
        session.close();
      }
      finished.countDown();
    }
  }

  private static void awaitQuietly(CountDownLatch latch, java.time.Duration timeout) {
    try {
      latch.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
