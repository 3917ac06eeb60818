package io.valkeyk8s.reconciler;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.valkeyk8s.reconciler.cluster.command.InitCommand;
import io.valkeyk8s.reconciler.cluster.command.ScaleDownCommand;
import io.valkeyk8s.reconciler.cluster.command.ScaleUpCommand;
import io.valkeyk8s.reconciler.cluster.heal.ClusterCommand;
import io.valkeyk8s.reconciler.core.ConfigException;
import io.valkeyk8s.reconciler.sentinel.SentinelCommand;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point: one subcommand per mode; {@code sentinel} when there is none (compatible with the
 * original tool). Configuration comes from the environment; invalid configuration prints one line
 * naming the variable and exits 2.
 */
@Command(
    name = "valkey-reconciler",
    mixinStandardHelpOptions = true,
    description =
        "Keeps Valkey on Kubernetes in shape: the Sentinel primary label, or a Valkey Cluster.")
public final class Main implements Callable<Integer> {
  static final int CONFIG_ERROR = 2;
  private final Map<String, String> env;

  Main(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Integer call() throws Exception {
    return new SentinelCommand(env).call(); // no subcommand: sentinel mode
  }

  /** The command line with every mode; other modes' commands are added here. */
  public static CommandLine commandLine(Map<String, String> env) {
    CommandLine cli = new CommandLine(new Main(env));
    cli.addSubcommand(new SentinelCommand(env));
    cli.addSubcommand(new ClusterCommand(env));
    // The in-cluster service account, or the kubeconfig outside a cluster.
    Supplier<KubernetesClient> kube = () -> new KubernetesClientBuilder().build();
    cli.addSubcommand(new InitCommand(env, kube));
    cli.addSubcommand(new ScaleUpCommand(env, kube));
    cli.addSubcommand(new ScaleDownCommand(env, kube));
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          if (e instanceof ConfigException) {
            commandLine.getErr().println("invalid configuration: " + e.getMessage());
            return CONFIG_ERROR;
          }
          throw e;
        });
    return cli;
  }

  public static void main(String[] args) {
    // Lettuce's few connections carry little traffic: unpooled buffers keep Netty's arenas
    // (megabytes each) out of the resident set. A -D on the command line still wins.
    if (System.getProperty("io.netty.allocator.type") == null) {
      System.setProperty("io.netty.allocator.type", "unpooled");
    }
    System.exit(commandLine(System.getenv()).execute(args));
  }
}
