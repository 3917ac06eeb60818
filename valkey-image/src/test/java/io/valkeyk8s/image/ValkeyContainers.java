package io.valkeyk8s.image;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Volume;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * Runs the Valkey image under test the way the chart does: uid 999, read-only root filesystem, the
 * run directory on a tmpfs, passwords only in the environment. Local images only: nothing is ever
 * pulled.
 */
final class ValkeyContainers {

  static final String IMAGE =
      System.getProperty("valkey.image", "localhost/valkey-image-it:0.1.0-SNAPSHOT");
  static final String ADMIN_PASSWORD = "admin-secret-1";
  static final String CLIENT_PASSWORD = "client-secret-2";
  static final String REPLICATION_PASSWORD = "replication-secret-3";
  static final String SENTINEL_PASSWORD = "sentinel-secret-4";
  static final int VALKEY_PORT = 6379;
  static final int SENTINEL_PORT = 26379;
  private static final Map<String, String> RUN_DIR_TMPFS =
      Map.of("/run/valkey", "rw,uid=999,gid=999,mode=0700");

  private ValkeyContainers() {}

  static Map<String, String> passwords() {
    return Map.of(
        "VALKEY_ADMIN_PASSWORD", ADMIN_PASSWORD,
        "VALKEY_CLIENT_PASSWORD", CLIENT_PASSWORD,
        "VALKEY_REPLICATION_PASSWORD", REPLICATION_PASSWORD);
  }

  /** A container of the image running the given entrypoint role, not started. */
  @SuppressWarnings("resource") // the caller owns and stops it
  static GenericContainer<?> container(String role, Map<String, String> env, String dataVolume) {
    GenericContainer<?> container =
        new GenericContainer<>(DockerImageName.parse(IMAGE))
            .withImagePullPolicy(image -> false)
            .withCommand(role)
            .withEnv(env)
            .withTmpFs(RUN_DIR_TMPFS)
            .withExposedPorts(role.equals("sentinel") ? SENTINEL_PORT : VALKEY_PORT)
            .waitingFor(
                Wait.forLogMessage(
                        role.equals("sentinel")
                            ? ".*\\+monitor master.*"
                            : ".*Ready to accept connections.*",
                        1)
                    .withStartupTimeout(Duration.ofSeconds(90)))
            .withCreateContainerCmdModifier(cmd -> readOnlyWithData(cmd, dataVolume));
    return container;
  }

  static GenericContainer<?> valkey(Map<String, String> env) {
    return container("valkey", env, null);
  }

  private static void readOnlyWithData(CreateContainerCmd cmd, String dataVolume) {
    HostConfig host = cmd.getHostConfig();
    host.withReadonlyRootfs(true);
    if (dataVolume != null) {
      host.withBinds(new Bind(dataVolume, new Volume("/data")));
    }
  }

  static RedisClient client(GenericContainer<?> container, String user, String password) {
    return RedisClient.create(
        RedisURI.builder()
            .withHost(container.getHost())
            .withPort(container.getMappedPort(VALKEY_PORT))
            .withAuthentication(user, password)
            .withTimeout(Duration.ofSeconds(10))
            .build());
  }

  /**
   * valkey-cli as admin inside the container against its own server; its standard output, trimmed.
   * Test-only: the password is on the command line of a throwaway container.
   */
  static String adminCli(GenericContainer<?> container, String... command) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "valkey-cli",
                "--no-auth-warning",
                "-p",
                String.valueOf(VALKEY_PORT),
                "--user",
                "admin",
                "-a",
                ADMIN_PASSWORD));
    args.addAll(List.of(command));
    return container.execInContainer(args.toArray(String[]::new)).getStdout().trim();
  }

  /** What a container that is expected to stop by itself printed, and its exit code. */
  record Exit(long code, String output) {
    List<String> lines() {
      return output.lines().filter(line -> !line.isBlank()).toList();
    }
  }

  /**
   * Runs the image once to completion (read-only root, uid 999) and removes it. {@code entrypoint}
   * null keeps the image's own.
   */
  static Exit runToExit(
      Map<String, String> env, List<Bind> binds, List<String> entrypoint, String... command)
      throws InterruptedException {
    DockerClient docker = DockerClientFactory.instance().client();
    List<String> envList = new ArrayList<>();
    env.forEach((name, value) -> envList.add(name + "=" + value));
    CreateContainerCmd create =
        docker
            .createContainerCmd(IMAGE)
            .withEnv(envList)
            .withCmd(command)
            .withHostConfig(
                HostConfig.newHostConfig()
                    .withReadonlyRootfs(true)
                    .withTmpFs(RUN_DIR_TMPFS)
                    .withBinds(binds));
    if (entrypoint != null) {
      create.withEntrypoint(entrypoint);
    }
    String id = create.exec().getId();
    try {
      docker.startContainerCmd(id).exec();
      int code = docker.waitContainerCmd(id).start().awaitStatusCode(60, TimeUnit.SECONDS);
      StringBuilder output = new StringBuilder();
      docker
          .logContainerCmd(id)
          .withStdOut(true)
          .withStdErr(true)
          .withFollowStream(false)
          .exec(
              new ResultCallback.Adapter<Frame>() {
                @Override
                public void onNext(Frame frame) {
                  output.append(new String(frame.getPayload()));
                }
              })
          .awaitCompletion(30, TimeUnit.SECONDS);
      return new Exit(code, output.toString());
    } finally {
      docker.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
    }
  }

  /** Stops a container gracefully (SIGTERM, as Kubernetes does), so Valkey can save on shutdown. */
  static void stopGracefully(GenericContainer<?> container) {
    container.getDockerClient().stopContainerCmd(container.getContainerId()).withTimeout(30).exec();
    container.stop();
  }

  static void removeVolume(String volume) {
    DockerClientFactory.instance().client().removeVolumeCmd(volume).exec();
  }
}
