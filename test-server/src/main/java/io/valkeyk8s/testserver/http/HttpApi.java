package io.valkeyk8s.testserver.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.valkeyk8s.testserver.ValkeyConnection;
import io.valkeyk8s.testserver.probe.ErrorKind;
import io.valkeyk8s.testserver.probe.ProbeReport;
import io.valkeyk8s.testserver.probe.ProbeSession;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The test server's HTTP interface, on the JDK {@link HttpServer}:
 *
 * <ul>
 *   <li>{@code GET /healthz}: the process is up (never asks Valkey, so a failover does not restart
 *       the pod that is there to watch it);
 *   <li>{@code PUT /kv/<key>} (body = value) and {@code GET /kv/<key>}: write and read one key
 *       through the primary Service;
 *   <li>{@code POST /check}: writes a fresh key and reads it back: "can I write right now?";
 *   <li>{@code GET /status}: the probe's report so far, as JSON, without reading writes back;
 *   <li>{@code GET /verify} (and its older name {@code GET /report}): the probe's report after
 *       reading back every write acknowledged so far, while the probe keeps writing. Always 200:
 *       the verdict is in the body ({@code verified}, {@code missingAckedWrites}), so it reads the
 *       same through the API server's pod proxy.
 * </ul>
 *
 * The probe endpoints answer 404 without a probe ({@code serve} without {@code --probe}); {@code
 * probe --http-port} serves only them and {@code /healthz}. Valkey failures answer 503 with {@code
 * {"ok":false,"error":"<kind>","message":...}}.
 */
public final class HttpApi implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BODY = 64 * 1024;
  private static final Duration CHECK_KEY_TTL = Duration.ofSeconds(60);

  private final HttpServer server;
  private final ExecutorService executor = Executors.newFixedThreadPool(4);
  private final ValkeyConnection valkey;
  private final ProbeSession probe;

  /**
   * @param valkey the connection for {@code /kv} and {@code /check}, or {@code null} to serve only
   *     the probe's endpoints
   * @param probe the running probe, or {@code null} when serving without one
   */
  public HttpApi(InetSocketAddress address, ValkeyConnection valkey, ProbeSession probe)
      throws IOException {
    this.valkey = valkey;
    this.probe = probe;
    this.server = HttpServer.create(address, 16);
    server.createContext("/healthz", safe(this::healthz));
    if (valkey != null) {
      server.createContext("/kv/", safe(this::keyValue));
      server.createContext("/check", safe(this::check));
    }
    server.createContext("/report", safe(exchange -> probeReport(exchange, true)));
    server.createContext("/verify", safe(exchange -> probeReport(exchange, true)));
    server.createContext("/status", safe(exchange -> probeReport(exchange, false)));
    server.setExecutor(executor);
  }

  public void start() {
    server.start();
    LOG.info("listening on {}", server.getAddress());
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private void healthz(HttpExchange exchange) throws IOException {
    if (!requireMethod(exchange, "GET")) {
      return;
    }
    send(exchange, 200, "text/plain", "ok\n");
  }

  private void keyValue(HttpExchange exchange) throws IOException {
    String key = exchange.getRequestURI().getPath().substring("/kv/".length());
    if (key.isEmpty() || key.length() > 512) {
      sendJson(
          exchange,
          400,
          Map.of(
              "ok",
              false,
              "error",
              "bad-request",
              "message",
              "the key is the path after /kv/ (1 to 512 characters)"));
      return;
    }
    switch (exchange.getRequestMethod()) {
      case "PUT" -> {
        byte[] body = exchange.getRequestBody().readNBytes(MAX_BODY + 1);
        if (body.length > MAX_BODY) {
          sendJson(
              exchange,
              413,
              Map.of("ok", false, "error", "too-large", "message", "value over 64 KiB"));
          return;
        }
        String value = new String(body, StandardCharsets.UTF_8);
        withValkey(
            exchange,
            redis -> redis.set(key, value),
            ignored -> response(200, "ok", true, "key", key));
      }
      case "GET" ->
          withValkey(
              exchange,
              redis -> redis.get(key),
              value ->
                  value == null
                      ? response(404, "ok", true, "key", key, "found", false)
                      : response(200, "ok", true, "key", key, "found", true, "value", value));
      default -> methodNotAllowed(exchange);
    }
  }

  private void check(HttpExchange exchange) throws IOException {
    if (!requireMethod(exchange, "POST")) {
      return;
    }
    String key = "check:" + UUID.randomUUID();
    String value = Long.toString(System.currentTimeMillis());
    long start = System.nanoTime();
    withValkey(
        exchange,
        redis -> {
          redis.set(key, value, SetArgs.Builder.px(CHECK_KEY_TTL));
          return value.equals(redis.get(key));
        },
        readBack ->
            response(
                readBack ? 200 : 500,
                "ok",
                readBack,
                "key",
                key,
                "latencyMs",
                (System.nanoTime() - start) / 1_000_000));
  }

  private void probeReport(HttpExchange exchange, boolean readBack) throws IOException {
    if (!requireMethod(exchange, "GET")) {
      return;
    }
    if (probe == null) {
      sendJson(
          exchange,
          404,
          Map.of(
              "ok",
              false,
              "error",
              "no-probe",
              "message",
              "start the server with serve --probe to get a report"));
      return;
    }
    ProbeReport report = readBack ? probe.report() : probe.status();
    send(exchange, 200, "application/json", report.toJson() + "\n");
  }

  private record Response(int status, Map<String, Object> body) {}

  private static Response response(int status, Object... pairs) {
    Map<String, Object> body = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      body.put((String) pairs[i], pairs[i + 1]);
    }
    return new Response(status, body);
  }

  /** Runs one Valkey call; a failure answers 503 with its kind. */
  private <T> void withValkey(
      HttpExchange exchange,
      Function<RedisClusterCommands<String, String>, T> call,
      Function<T, Response> onSuccess)
      throws IOException {
    Response response;
    try {
      response = onSuccess.apply(valkey.call(call));
    } catch (RuntimeException e) {
      response =
          response(
              503,
              "ok",
              false,
              "error",
              ErrorKind.classify(e).label(),
              "message",
              String.valueOf(e.getMessage()));
    }
    sendJson(exchange, response.status(), response.body());
  }

  private static boolean requireMethod(HttpExchange exchange, String method) throws IOException {
    if (method.equals(exchange.getRequestMethod())) {
      return true;
    }
    methodNotAllowed(exchange);
    return false;
  }

  private static void methodNotAllowed(HttpExchange exchange) throws IOException {
    sendJson(exchange, 405, Map.of("ok", false, "error", "method-not-allowed"));
  }

  private static void sendJson(HttpExchange exchange, int status, Map<String, Object> body)
      throws IOException {
    send(exchange, status, "application/json", JSON.writeValueAsString(body) + "\n");
  }

  private static void send(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /**
   * A handler that answers 500 instead of dropping the connection when something unexpected throws.
   */
  private static HttpHandler safe(HttpHandler handler) {
    return exchange -> {
      try {
        handler.handle(exchange);
      } catch (RuntimeException e) {
        LOG.warn("{} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
        try {
          send(exchange, 500, "text/plain", "internal error\n");
        } catch (IOException | RuntimeException alreadyAnswered) {
          // headers were sent before the failure; closing is all that is left
        }
      } finally {
        exchange.close();
      }
    };
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
