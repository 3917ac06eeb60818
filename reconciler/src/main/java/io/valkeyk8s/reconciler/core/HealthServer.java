package io.valkeyk8s.reconciler.core;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/** {@code /healthz}, {@code /readyz} and Prometheus {@code /metrics} on the JDK's HTTP server. */
public final class HealthServer implements AutoCloseable {
  private final HttpServer server;

  public HealthServer(int port, Health health, PrometheusMeterRegistry registry)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 16);
    server.setExecutor(
        Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().daemon().name("http").unstarted(r)));
    server.createContext("/healthz", ex -> probe(ex, health.isAlive(), health.describe(false)));
    server.createContext("/readyz", ex -> probe(ex, health.isReady(), health.describe(true)));
    server.createContext(
        "/metrics",
        ex -> respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
  }

  public void start() {
    server.start();
  }

  /** The bound port (useful when configured as 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  private static void probe(HttpExchange ex, boolean ok, String body) throws IOException {
    respond(ex, ok ? 200 : 503, "text/plain; charset=utf-8", body);
  }

  private static void respond(HttpExchange ex, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
