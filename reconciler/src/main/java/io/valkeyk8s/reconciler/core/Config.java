package io.valkeyk8s.reconciler.core;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The settings, read once from the environment and validated: what every mode shares, and each
 * mode's own part ({@link Sentinel}, {@link Cluster}). Every read goes through {@link Env}, so a
 * bad value is one {@link ConfigException} line naming the variable (exit 2).
 *
 * @param namespace namespace of the data pods (POD_NAMESPACE)
 * @param podSelector label selector of the data pods (VALKEY_POD_SELECTOR)
 * @param valkeyPort port of the data pods (VALKEY_PORT)
 * @param valkeyUsername ACL user for admin commands on the data pods (VALKEY_USERNAME)
 * @param valkeyPassword its password (VALKEY_PASSWORD, or re-read from VALKEY_PASSWORD_FILE)
 * @param httpPort health and metrics port (HTTP_PORT)
 * @param leaseName leader-election Lease; empty means no election (LEASE_NAME)
 * @param leaseDuration how long a Lease holds without renewal (LEASE_DURATION_SECONDS)
 * @param resync period of the full reconcile (RESYNC_SECONDS)
 * @param identity this replica's name in the Lease (POD_NAME, else the host name)
 * @param tls TLS to Sentinels and nodes (VALKEY_TLS...)
 */
public record Config(
    String namespace,
    Map<String, String> podSelector,
    int valkeyPort,
    String valkeyUsername,
    Password valkeyPassword,
    int httpPort,
    String leaseName,
    Duration leaseDuration,
    Duration resync,
    String identity,
    TlsSettings tls) {

  public static Config fromEnv(Map<String, String> vars) {
    Env env = new Env(vars);
    String namespace = env.string("POD_NAMESPACE", "default");
    if (!namespace.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
      throw new ConfigException(
          "POD_NAMESPACE", "'" + namespace + "' is not a valid namespace name");
    }
    String lease = env.stringAllowEmpty("LEASE_NAME", "valkey-reconciler");
    if (!lease.isEmpty() && !lease.matches("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")) {
      throw new ConfigException("LEASE_NAME", "'" + lease + "' is not a valid object name");
    }
    if (env.isBlank("VALKEY_POD_SELECTOR")) {
      // An empty selector would match every pod of the namespace.
      throw new ConfigException("VALKEY_POD_SELECTOR", "must not be empty");
    }
    return new Config(
        namespace,
        env.selector("VALKEY_POD_SELECTOR", "app.kubernetes.io/component=valkey"),
        env.port("VALKEY_PORT", 6379),
        env.string("VALKEY_USERNAME", "admin"),
        env.password("VALKEY_PASSWORD"),
        env.integer("HTTP_PORT", 8080, 0, 65535),
        lease,
        Duration.ofSeconds(env.integer("LEASE_DURATION_SECONDS", 15, 2, 300)),
        Duration.ofSeconds(env.integer("RESYNC_SECONDS", 10, 1, 3600)),
        env.string(
            "POD_NAME", env.string("HOSTNAME", "reconciler-" + ProcessHandle.current().pid())),
        TlsSettings.fromEnv(env));
  }

  public boolean leaderElection() {
    return !leaseName.isEmpty();
  }

  /** Never prints the password. */
  @Override
  public String toString() {
    return "namespace="
        + namespace
        + " selector="
        + podSelector
        + " valkey_port="
        + valkeyPort
        + " username="
        + valkeyUsername
        + " http_port="
        + httpPort
        + " lease="
        + (leaseName.isEmpty() ? "-" : leaseName)
        + " identity="
        + identity
        + " "
        + tls;
  }

  /**
   * Sentinel mode's part, compatible with the original tool's environment.
   *
   * @param sentinelHost a Sentinel to start discovery from, usually the Sentinel Service
   *     (VALKEY_SENTINEL_HOST, required)
   * @param sentinelPort its port (VALKEY_SENTINEL_PORT)
   * @param sentinelPassword Sentinel's requirepass (VALKEY_SENTINEL_PASSWORD, or re-read from
   *     VALKEY_SENTINEL_PASSWORD_FILE)
   * @param masterName the name Sentinel monitors the primary under (VALKEY_MASTER_NAME)
   * @param labelName label that marks the primary pod (MASTER_POD_LABEL_NAME)
   * @param labelValue its value (MASTER_POD_LABEL_VALUE)
   * @param fastFailover request a failover at once when the kubelet reports the primary's Valkey
   *     container terminated, instead of waiting for down-after (VALKEY_FAST_FAILOVER)
   * @param primarySlice the EndpointSlice of the selector-less primary Service this reconciler
   *     owns, when it writes one (VALKEY_PRIMARY_ENDPOINT_SLICE; empty: none)
   * @param kubeProxyMinSync kube-proxy's iptables minSyncPeriod (VALKEY_KUBE_PROXY_MIN_SYNC_MS,
   *     default 1000, the Kubernetes default): a planned handover lets writes go on this long after
   *     the primary's pod starts terminating, so that the route's switch is not held back behind
   *     the sync the termination itself caused; 0 starts handovers at once
   */
  public record Sentinel(
      String sentinelHost,
      int sentinelPort,
      Password sentinelPassword,
      String masterName,
      String labelName,
      String labelValue,
      HandoverFailover handoverFailover,
      boolean fastFailover,
      Optional<PrimarySlice> primarySlice,
      Duration kubeProxyMinSync) {

    /**
     * The EndpointSlice that routes the primary Service to the primary alone.
     *
     * @param name the slice's name (VALKEY_PRIMARY_ENDPOINT_SLICE)
     * @param service the selector-less Service it serves (VALKEY_PRIMARY_SERVICE, required then)
     * @param portName the Service port's name (VALKEY_PRIMARY_SERVICE_PORT_NAME); the number is
     *     VALKEY_PORT
     */
    public record PrimarySlice(String name, String service, String portName) {
      static Optional<PrimarySlice> fromEnv(Env env) {
        String name = env.stringAllowEmpty("VALKEY_PRIMARY_ENDPOINT_SLICE", "");
        if (name.isEmpty()) {
          return Optional.empty();
        }
        objectName("VALKEY_PRIMARY_ENDPOINT_SLICE", name);
        String service = env.required("VALKEY_PRIMARY_SERVICE");
        if (!service.matches("[a-z]([-a-z0-9]{0,61}[a-z0-9])?")) {
          throw new ConfigException(
              "VALKEY_PRIMARY_SERVICE", "'" + service + "' is not a valid Service name");
        }
        String port = env.string("VALKEY_PRIMARY_SERVICE_PORT_NAME", "valkey");
        if (!port.matches("[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?")) {
          throw new ConfigException(
              "VALKEY_PRIMARY_SERVICE_PORT_NAME", "'" + port + "' is not a valid port name");
        }
        return Optional.of(new PrimarySlice(name, service, port));
      }

      private static void objectName(String variable, String value) {
        if (!value.matches("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")) {
          throw new ConfigException(variable, "'" + value + "' is not a valid object name");
        }
      }
    }

    /**
     * How a planned handover asks Sentinel to fail over (VALKEY_HANDOVER_FAILOVER): the reconciler
     * pauses the primary and forces the failover (the default: measured faster,
     * PlannedHandoverBenchmark), or the primary hands over itself ({@code SENTINEL FAILOVER <name>
     * COORDINATED}, Valkey 9.0+).
     */
    public enum HandoverFailover {
      COORDINATED,
      FORCED;

      static HandoverFailover parse(String name, String raw) {
        return switch (raw.toLowerCase(java.util.Locale.ROOT)) {
          case "coordinated" -> COORDINATED;
          case "forced" -> FORCED;
          default -> throw new ConfigException(name, "'" + raw + "' is not coordinated or forced");
        };
      }
    }

    public static Sentinel fromEnv(Map<String, String> vars) {
      Env env = new Env(vars);
      return new Sentinel(
          env.required("VALKEY_SENTINEL_HOST"),
          env.port("VALKEY_SENTINEL_PORT", 26379),
          env.password("VALKEY_SENTINEL_PASSWORD"),
          env.string("VALKEY_MASTER_NAME", "myprimary"),
          env.labelName("MASTER_POD_LABEL_NAME", "valkey-master"),
          env.labelValue("MASTER_POD_LABEL_VALUE", "true"),
          HandoverFailover.parse(
              "VALKEY_HANDOVER_FAILOVER", env.string("VALKEY_HANDOVER_FAILOVER", "forced")),
          env.flag("VALKEY_FAST_FAILOVER", true),
          PrimarySlice.fromEnv(env),
          Duration.ofMillis(env.integer("VALKEY_KUBE_PROXY_MIN_SYNC_MS", 1000, 0, 60_000)));
    }

    @Override
    public String toString() {
      return "sentinel="
          + sentinelHost
          + ":"
          + sentinelPort
          + " master="
          + masterName
          + " label="
          + labelName
          + "="
          + labelValue
          + " handover="
          + handoverFailover.name().toLowerCase(java.util.Locale.ROOT)
          + " fast_failover="
          + fastFailover
          + " primary_slice="
          + primarySlice.map(s -> s.name() + "(service=" + s.service() + ")").orElse("-")
          + " kube_proxy_min_sync_ms="
          + kubeProxyMinSync.toMillis();
    }
  }

  /**
   * Cluster mode's part: the shard layout the chart's StatefulSet was sized for.
   *
   * @param masters shards, at least 3 (VALKEY_CLUSTER_MASTERS, required)
   * @param replicasPerMaster replicas of each shard's primary (VALKEY_CLUSTER_REPLICAS_PER_MASTER)
   */
  public record Cluster(int masters, int replicasPerMaster) {
    public static final int MIN_MASTERS = 3;

    /** Reads this part and checks the shared one against what a cluster needs. */
    public static Cluster fromEnv(Map<String, String> vars, Config shared) {
      Env env = new Env(vars);
      env.required("VALKEY_CLUSTER_MASTERS");
      int masters =
          atLeast(
              "VALKEY_CLUSTER_MASTERS",
              env.integer("VALKEY_CLUSTER_MASTERS", 0, Integer.MIN_VALUE, Integer.MAX_VALUE),
              MIN_MASTERS,
              " (a Valkey Cluster needs a majority of masters to fail over)");
      int replicas =
          atLeast(
              "VALKEY_CLUSTER_REPLICAS_PER_MASTER",
              env.integer(
                  "VALKEY_CLUSTER_REPLICAS_PER_MASTER", 0, Integer.MIN_VALUE, Integer.MAX_VALUE),
              0,
              "");
      if (shared.valkeyPort() > 55535) {
        throw new ConfigException(
            "VALKEY_PORT",
            shared.valkeyPort() + " is above 55535 (the cluster bus uses port+10000)");
      }
      return new Cluster(masters, replicas);
    }

    private static int atLeast(String variable, int value, int min, String why) {
      if (value < min) {
        throw new ConfigException(variable, value + " is below " + min + why);
      }
      return value;
    }

    /** Pods the StatefulSet has for this layout: one primary and R replicas per shard. */
    public int podCount() {
      return masters * (1 + replicasPerMaster);
    }

    @Override
    public String toString() {
      return "masters=" + masters + " replicas_per_master=" + replicasPerMaster;
    }
  }
}
