package io.valkeyk8s.reconciler.sentinel;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.valkeyk8s.reconciler.testing.LabelWatch;
import io.valkeyk8s.reconciler.testing.TestPods;
import io.valkeyk8s.reconciler.valkey.Address;
import io.valkeyk8s.testsupport.KubeApiServer;
import io.valkeyk8s.testsupport.SentinelSet;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * Label latency under repeated kill -9 failovers, against real parts, with the reconciler as its
 * own JVM (as in its container). Prints p50/p95/p99 of first +switch-master → label visible through
 * a watch, and kill → label visible; the reconciler's start-to-ready and RSS. Numbers only: no
 * assertion on time. Run: ./mvnw -B -ntp -pl reconciler -am -Pbenchmark verify
 */
class LabelLatencyBenchmark {
  /**
   * The image's JVM flags (reconciler/pom.xml, Jib jvmFlags), with the class-data archive in
   * target/.
   */
  static final List<String> JVM_FLAGS =
      List.of(
          "-XX:+UseSerialGC",
          "-Xms8m",
          "-Xmx48m",
          "-Xmn4m",
          "-XX:MinHeapFreeRatio=10",
          "-XX:MaxHeapFreeRatio=30",
          "-Xss256k",
          "-XX:MaxMetaspaceSize=64m",
          "-XX:ReservedCodeCacheSize=16m",
          "-XX:MaxDirectMemorySize=16m",
          "-XX:TieredStopAtLevel=1",
          "-XX:CICompilerCount=1",
          "-XX:-UsePerfData",
          "-Xlog:cds=off",
          "-Xlog:cds+dynamic=off",
          "-XX:+UnlockDiagnosticVMOptions",
          "-XX:ArchiveRelocationMode=0",
          "-XX:+AutoCreateSharedArchive",
          "-XX:SharedArchiveFile=target/reconciler-cds.jsa");

  @Test
  void failovers() throws Exception {
    int failovers = Integer.getInteger("benchmark.failovers", 20);
    Path target = Paths.get("target").toAbsolutePath();
    StringBuilder report = new StringBuilder();
    try (KubeApiServer api = KubeApiServer.start();
        KubernetesClient client = api.newClient();
        SentinelSet valkey = SentinelSet.start(3)) {
      TestPods pods = TestPods.inNewNamespace(client, "bench");
      for (int i = 0; i < 3; i++) {
        pods.create("valkey-" + i, valkey.ip(i));
      }
      Map<Address, Long> firstSwitch = new ConcurrentHashMap<>();
      RedisClient lettuce = RedisClient.create();
      List<StatefulRedisPubSubConnection<String, String>> subs = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        var ps = lettuce.connectPubSub(valkey.sentinelUri(i));
        ps.addListener(
            new RedisPubSubAdapter<>() {
              @Override
              public void message(String channel, String message) {
                long now = System.nanoTime();
                SwitchMessage.parse(message).ifPresent(m -> firstSwitch.putIfAbsent(m.to(), now));
              }
            });
        ps.sync().subscribe("+switch-master");
        subs.add(ps);
      }
      try (LabelWatch watch = new LabelWatch(client, pods.namespace(), "valkey-master", "true")) {
        int httpPort;
        try (ServerSocket s = new ServerSocket(0)) {
          httpPort = s.getLocalPort();
        }
        HttpClient http = HttpClient.newHttpClient();
        Files.deleteIfExists(target.resolve("reconciler-cds.jsa"));
        Files.deleteIfExists(target.resolve("reconciler.aot"));
        // First start: no class-data archive yet (a pod's first start); it is written at exit.
        Process cold = startReconciler(api, valkey, pods.namespace(), httpPort, target);
        double coldMs = awaitReady(http, httpPort, cold);
        cold.destroy();
        cold.waitFor();
        // Second start, with the archive (a restarted container, or an image that ships one).
        Process reconciler = startReconciler(api, valkey, pods.namespace(), httpPort, target);
        try {
          double startToReadyMs = awaitReady(http, httpPort, reconciler);
          await().atMost(Duration.ofSeconds(30)).until(() -> watch.labelledPod().isPresent());

          List<Double> fromSwitch = new ArrayList<>();
          List<Double> fromKill = new ArrayList<>();
          for (int i = 0; i < failovers; i++) {
            int node = valkey.nodeOf(valkey.awaitStable().getHostString());
            firstSwitch.clear();
            long killedAt = System.nanoTime();
            valkey.killValkey(node);
            String[] labelled = new String[1];
            await()
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(5))
                .until(
                    () -> {
                      var pod = watch.labelledPod();
                      if (pod.isPresent() && !pod.get().equals("valkey-" + node)) {
                        labelled[0] = pod.get();
                        return true;
                      }
                      return false;
                    });
            long labelledAt = watch.labelledAt(labelled[0]).orElseThrow();
            var address = valkey.valkeyAddress(Integer.parseInt(labelled[0].substring(7)));
            Address to = new Address(address.getHostString(), address.getPort());
            await().atMost(Duration.ofSeconds(30)).until(() -> firstSwitch.containsKey(to));
            fromSwitch.add((labelledAt - firstSwitch.get(to)) / 1e6);
            fromKill.add((labelledAt - killedAt) / 1e6);
            valkey.restartValkeyAsReplica(node);
          }
          long rssKb = procStatus(reconciler.pid(), "VmRSS");
          long hwmKb = procStatus(reconciler.pid(), "VmHWM");
          long anonKb = procStatus(reconciler.pid(), "RssAnon");
          long fileKb = procStatus(reconciler.pid(), "RssFile");
          report.append(
              String.format(
                  "failovers: %d (kill -9 of the primary, 3 Valkey + 3 Sentinels, down-after 1000 ms)%n",
                  failovers));
          report.append(line("first +switch-master -> label visible in a watch", fromSwitch));
          report.append(line("kill -9 -> label visible in a watch", fromKill));
          report.append(
              String.format(
                  "reconciler start-to-ready: %.0f ms without class-data archive, %.0f ms with%n",
                  coldMs, startToReadyMs));
          report.append(
              String.format(
                  "reconciler RSS: %d MiB now (%d MiB anonymous, %d MiB file-backed: JVM libraries, class-data archive), %d MiB peak%n",
                  rssKb / 1024, anonKb / 1024, fileKb / 1024, hwmKb / 1024));
          report
              .append("JVM: ")
              .append(System.getProperty("java.vm.version"))
              .append(", flags: ")
              .append(String.join(" ", jvmFlags(true)))
              .append('\n');
          if (Boolean.getBoolean("benchmark.nmt")) {
            Process jcmd =
                new ProcessBuilder(
                        Paths.get(System.getProperty("java.home"), "bin", "jcmd").toString(),
                        Long.toString(reconciler.pid()),
                        "VM.native_memory",
                        "summary")
                    .redirectErrorStream(true)
                    .start();
            report.append(new String(jcmd.getInputStream().readAllBytes()));
            jcmd.waitFor();
          }
          if (watch.maxLabelled() > 1) {
            report
                .append("VIOLATION: two labelled pods seen: ")
                .append(watch.violations())
                .append('\n');
          }
        } finally {
          reconciler.destroy();
          reconciler.waitFor();
        }
      } finally {
        subs.forEach(StatefulRedisPubSubConnection::close);
        lettuce.shutdown();
      }
    }
    System.out.println("==== label latency benchmark ====\n" + report);
    Files.writeString(target.resolve("benchmark-label-latency.txt"), report);
  }

  private static Process startReconciler(
      KubeApiServer api, SentinelSet valkey, String namespace, int httpPort, Path target)
      throws Exception {
    // The packaged jar, not target/classes: the class-data archive accepts only jars.
    Path jar;
    try (var jars = Files.list(target)) {
      jar =
          jars.filter(f -> f.getFileName().toString().matches("reconciler-.*\\.jar"))
              .findFirst()
              .orElseThrow();
    }
    String classpath =
        jar
            + java.io.File.pathSeparator
            + Files.readString(target.resolve("runtime-classpath.txt")).trim();
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmFlags(Files.exists(target.resolve("reconciler.aot"))));
    if (Boolean.getBoolean("benchmark.nmt")) {
      command.add("-XX:NativeMemoryTracking=summary");
    }
    command.addAll(List.of("-cp", classpath, "io.valkeyk8s.reconciler.Main", "sentinel"));
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(target.resolve("benchmark-reconciler.log").toFile());
    pb.directory(target.getParent().toFile());
    Map<String, String> env = pb.environment();
    env.put(
        "MALLOC_ARENA_MAX",
        "2"); // as in the image: glibc's per-thread arenas are most of a JVM's slack
    env.put("KUBECONFIG", api.writeKubeconfig(Files.createTempDirectory("kube")).toString());
    env.put("POD_NAMESPACE", namespace);
    env.put("VALKEY_SENTINEL_HOST", valkey.ip(0));
    env.put("VALKEY_SENTINEL_PORT", String.valueOf(valkey.sentinelPort()));
    env.put("VALKEY_SENTINEL_PASSWORD", valkey.users().sentinelPassword());
    env.put("VALKEY_MASTER_NAME", SentinelSet.MASTER);
    env.put("VALKEY_PASSWORD", valkey.users().adminPassword());
    env.put("HTTP_PORT", String.valueOf(httpPort));
    env.put("POD_NAME", "bench");
    return pb.start();
  }

  /** The image's flags, or -Dbenchmark.jvmFlags="..." to compare others. */
  private static List<String> jvmFlags(boolean trained) {
    String override = System.getProperty("benchmark.jvmFlags", "");
    List<String> flags = override.isBlank() ? JVM_FLAGS : List.of(override.trim().split("\\s+"));
    // JDK 25's AOT cache: the first run records it (-XX:AOTCacheOutput), later runs use it.
    return flags.stream()
        .map(
            f ->
                trained && f.startsWith("-XX:AOTCacheOutput=")
                    ? f.replace("AOTCacheOutput", "AOTCache")
                    : f)
        .toList();
  }

  /** Milliseconds from process start until /readyz answers 200. */
  private static double awaitReady(HttpClient http, int port, Process p) {
    long started = p.info().startInstant().map(t -> t.toEpochMilli()).orElseThrow();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(10))
        .until(() -> ready(http, port));
    return System.currentTimeMillis() - started;
  }

  private static boolean ready(HttpClient http, int port) {
    try {
      return http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
                      .build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode()
          == 200;
    } catch (Exception notYet) {
      return false;
    }
  }

  private static long procStatus(long pid, String field) throws Exception {
    for (String l : Files.readAllLines(Paths.get("/proc/" + pid + "/status"))) {
      if (l.startsWith(field + ":")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  private static String line(String what, List<Double> ms) {
    List<Double> sorted = new ArrayList<>(ms);
    Collections.sort(sorted);
    return String.format(
        "%-50s p50 %6.0f ms  p95 %6.0f ms  p99 %6.0f ms  (min %.0f, max %.0f, n=%d)%n",
        what,
        pct(sorted, 50),
        pct(sorted, 95),
        pct(sorted, 99),
        sorted.get(0),
        sorted.get(sorted.size() - 1),
        sorted.size());
  }

  /** Nearest-rank percentile. */
  private static double pct(List<Double> sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, rank - 1));
  }
}
