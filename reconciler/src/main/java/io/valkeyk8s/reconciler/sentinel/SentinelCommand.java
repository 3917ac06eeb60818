package io.valkeyk8s.reconciler.sentinel;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.valkeyk8s.reconciler.core.Config;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;

/** {@code sentinel}: keep the primary label on the pod Sentinel elected (runs until stopped). */
@Command(
    name = "sentinel",
    description = "Keep the primary label on the pod the Sentinels elected (default).")
public final class SentinelCommand implements Callable<Integer> {
  private final Map<String, String> env;

  public SentinelCommand(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Integer call() throws Exception {
    Config config = Config.fromEnv(env);
    SentinelConfig sentinel = SentinelConfig.fromEnv(env);
    CountDownLatch stopped = new CountDownLatch(1);
    try (KubernetesClient client = new KubernetesClientBuilder().build();
        SentinelMode mode = new SentinelMode(config, sentinel, client)) {
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      mode.close();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    } finally {
                      stopped.countDown();
                    }
                  },
                  "shutdown"));
      mode.start();
      stopped.await();
    }
    return 0;
  }
}
