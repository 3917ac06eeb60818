package io.valkeyk8s.reconciler.sentinel;

import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.ListOfMapsOutput;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.output.ValueOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.core.TlsSettings;
import io.valkeyk8s.reconciler.valkey.Address;
import io.valkeyk8s.reconciler.valkey.Credentials;
import io.valkeyk8s.reconciler.valkey.LettuceClients;
import io.valkeyk8s.reconciler.valkey.TlsFailure;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every Sentinel of the master: discovered from the configured one (often a Service, so it is
 * identified by its run id, not its address) and its {@code SENTINEL SENTINELS}; each member gets a
 * pub/sub subscription and a command connection. Events and reconnects only call {@code wake}:
 * pub/sub messages sent while disconnected are lost, so the loop re-reads the truth after every
 * reconnect. {@link #ask()} returns the majority answer.
 */
public final class Sentinels implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Sentinels.class);
  private static final Set<String> CHANNELS =
      Set.of(
          "+switch-master",
          "+sentinel",
          "+sdown",
          "-sdown",
          "+odown",
          "-odown",
          "+failover-end",
          "+convert-to-slave",
          "+role-change",
          "+reboot",
          "+slave");

  /** Every Sentinel and data-node command: a frozen node must not stall the loop. */
  static final Duration TIMEOUT = Duration.ofMillis(1000);

  private final Config.Sentinel config;
  private final TlsSettings tls;
  private final ClientResources resources;
  private final SwitchClock clock;
  private final Runnable wake;
  private final Map<Address, SentinelLink> members = new ConcurrentHashMap<>();
  private final ScheduledExecutorService discovery =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("sentinel-discovery").unstarted(r));
  private final RedisClient seedClient;
  private volatile boolean closed;
  private volatile String seedError;

  public Sentinels(
      Config.Sentinel config,
      TlsSettings tls,
      ClientResources resources,
      SwitchClock clock,
      Runnable wake) {
    this.config = config;
    this.tls = tls;
    this.resources = resources;
    this.clock = clock;
    this.wake = wake;
    this.seedClient = LettuceClients.client(resources, TIMEOUT, false, tls);
  }

  /** Discovers now and every period after; also when a Sentinel announces a new one. */
  public void start(Duration period) {
    discovery.scheduleWithFixedDelay(
        this::discoverQuietly, 0, period.toMillis(), TimeUnit.MILLISECONDS);
  }

  public void discoverSoon() {
    if (!closed) {
      discovery.execute(this::discoverQuietly);
    }
  }

  private void discoverQuietly() {
    try {
      discover();
    } catch (RuntimeException e) {
      log.warn("action=discover-failed error=\"{}\"", e.getMessage());
    }
  }

  /** One discovery round: who are the Sentinels, by their own reports. */
  synchronized void discover() {
    if (closed) {
      return;
    }
    Map<Address, String> peerReports = new LinkedHashMap<>();
    Address seed = new Address(config.sentinelHost(), config.sentinelPort());
    String seedId = null;
    try (StatefulRedisSentinelConnection<String, String> c =
        seedClient.connectSentinel(LettuceClients.uri(seed, credentials(), TIMEOUT, tls))) {
      seedId = myId(c);
      peers(c).forEach(peerReports::putIfAbsent);
      seedError = null;
    } catch (RuntimeException e) {
      String error = TlsFailure.describe(e);
      if (!error.equals(seedError)) { // once until it changes, not every resync
        log.warn("action=seed-unreachable sentinel={} error=\"{}\"", seed, error);
      }
      seedError = error;
    }
    Map<Address, String> answering = new LinkedHashMap<>();
    for (SentinelLink m : members.values()) {
      if (m.commands == null || !m.commands.isOpen()) {
        continue;
      }
      try {
        peers(m.commands).forEach(peerReports::putIfAbsent);
        if (m.runId != null) {
          answering.put(m.address, m.runId);
        }
      } catch (RuntimeException e) {
        log.debug("action=peers-unanswered sentinel={} error=\"{}\"", m.address, e.getMessage());
      }
    }
    Map<Address, String> reported = roster(peerReports, answering, seed, seedId);
    if (reported.isEmpty()) {
      return; // nobody answered: keep what we have
    }
    for (Map.Entry<Address, String> e : reported.entrySet()) {
      SentinelLink existing = members.get(e.getKey());
      if (existing == null) {
        SentinelLink m = new SentinelLink(e.getKey(), e.getValue());
        members.put(e.getKey(), m);
        log.info("action=sentinel-add sentinel={} runid={}", e.getKey(), e.getValue());
      }
    }
    for (Address gone : new ArrayList<>(members.keySet())) {
      if (!reported.containsKey(gone)) {
        log.info(
            "action=sentinel-remove sentinel={} reason=\"no Sentinel reports it any more\"", gone);
        members.remove(gone).close();
      }
    }
    members.values().forEach(SentinelLink::connectIfNeeded);
  }

  /**
   * The members: one address per run id, so that a Sentinel reached both through the seed (usually
   * a Service in front of all of them) and under its own address counts once in the majority.
   * Addresses the Sentinels report for each other come first, then the members that answered (a
   * Sentinel alone reports no peer), and the seed address last, only for a run id known under no
   * other address.
   */
  static Map<Address, String> roster(
      Map<Address, String> peerReports,
      Map<Address, String> answering,
      Address seed,
      String seedId) {
    Map<String, Address> byRunId = new LinkedHashMap<>();
    Map<Address, String> result = new LinkedHashMap<>();
    BiConsumer<Address, String> offer =
        (address, runId) -> {
          if (runId != null && !byRunId.containsKey(runId) && !result.containsKey(address)) {
            byRunId.put(runId, address);
            result.put(address, runId);
          }
        };
    peerReports.forEach(offer);
    answering.forEach(
        (address, runId) -> {
          if (!address.equals(seed)) {
            offer.accept(address, runId);
          }
        });
    if (answering.containsKey(seed)) {
      offer.accept(seed, answering.get(seed));
    }
    offer.accept(seed, seedId);
    return result;
  }

  private Credentials credentials() {
    return Credentials.password(config.sentinelPassword());
  }

  private Map<Address, String> peers(StatefulRedisSentinelConnection<String, String> c) {
    CommandArgs<String, String> args =
        new CommandArgs<>(StringCodec.UTF8).add("SENTINELS").add(config.masterName());
    List<Map<String, String>> list =
        c.sync().dispatch(CommandType.SENTINEL, new ListOfMapsOutput<>(StringCodec.UTF8), args);
    Map<Address, String> result = new LinkedHashMap<>();
    for (Map<String, String> s : list) {
      result.put(new Address(s.get("ip"), Integer.parseInt(s.get("port"))), s.get("runid"));
    }
    return result;
  }

  private static String myId(StatefulRedisSentinelConnection<String, String> c) {
    return c.sync()
        .dispatch(
            CommandType.SENTINEL,
            new ValueOutput<>(StringCodec.UTF8),
            new CommandArgs<>(StringCodec.UTF8).add("MYID"));
  }

  /** The Sentinels' answers to GET-MASTER-ADDR-BY-NAME, returned once a majority agrees. */
  public Truth ask() throws InterruptedException {
    List<SentinelLink> asked = new ArrayList<>(members.values());
    int majority = asked.size() / 2 + 1;
    Map<Address, Integer> votes = new ConcurrentHashMap<>();
    java.util.concurrent.CountDownLatch done =
        new java.util.concurrent.CountDownLatch(asked.size());
    java.util.concurrent.atomic.AtomicInteger answered =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.CountDownLatch agreed = new java.util.concurrent.CountDownLatch(1);
    for (SentinelLink m : asked) {
      RedisFuture<SocketAddress> f = m.askPrimary();
      if (f == null) {
        done.countDown();
        continue;
      }
      f.whenComplete(
          (addr, error) -> {
            if (error == null && addr instanceof InetSocketAddress isa) {
              answered.incrementAndGet();
              int n = votes.merge(new Address(isa.getHostString(), isa.getPort()), 1, Integer::sum);
              if (n >= majority) {
                agreed.countDown();
              }
            }
            done.countDown();
          });
    }
    // Whichever comes first: a majority agrees, or every member answered or timed out.
    long deadline = System.nanoTime() + TIMEOUT.toNanos() + 200_000_000L;
    while (agreed.getCount() > 0 && done.getCount() > 0 && System.nanoTime() < deadline) {
      agreed.await(5, TimeUnit.MILLISECONDS);
    }
    Map<Address, Integer> snapshot = Map.copyOf(votes);
    Optional<Address> winner =
        snapshot.entrySet().stream()
            .filter(e -> e.getValue() >= majority)
            .map(Map.Entry::getKey)
            .findFirst();
    return new Truth(winner, snapshot, asked.size(), answered.get());
  }

  /**
   * SENTINEL FAILOVER on the first member that accepts it (INPROG counts as accepted), asking the
   * members on pods that stay first (a Sentinel on a terminating pod stops with it, in the middle
   * of the failover); returns that Sentinel, which runs the failover alone (a forced failover asks
   * nobody's agreement).
   *
   * @param stopping true for a member whose pod is terminating: asked only when no other accepts
   */
  public Optional<Address> failover(Predicate<Address> stopping) {
    return preferring(stopping.negate()).stream()
        .map(m -> m.address)
        .filter(this::failoverOn)
        .findFirst();
  }

  /** SENTINEL FAILOVER on this member; true when it accepted (or one is in progress). */
  public boolean failoverOn(Address sentinel) {
    SentinelLink m = members.get(sentinel);
    if (m == null || m.commands == null || !m.commands.isOpen()) {
      return false;
    }
    try {
      m.commands.sync().failover(config.masterName());
      return true;
    } catch (RuntimeException e) {
      if (String.valueOf(e.getMessage()).startsWith("INPROG")) {
        return true;
      }
      log.warn(
          "action=sentinel-failover-refused sentinel={} error=\"{}\"", m.address, e.getMessage());
      return false;
    }
  }

  /**
   * SENTINEL FAILOVER &lt;name&gt; COORDINATED on this member (Valkey 9.0+: the Sentinel asks the
   * primary for FAILOVER TO the replica it picks, so the primary pauses its writes, waits until
   * that replica has every byte and demotes itself before the replica takes over). Empty when it
   * accepted (INPROG counts as accepted), else its answer or why it could not be asked.
   */
  public Optional<String> coordinatedFailoverOn(Address sentinel) {
    SentinelLink m = members.get(sentinel);
    if (m == null || m.commands == null || !m.commands.isOpen()) {
      return Optional.of("not connected");
    }
    try {
      m.commands
          .sync()
          .dispatch(
              CommandType.SENTINEL,
              new StatusOutput<>(StringCodec.UTF8),
              new CommandArgs<>(StringCodec.UTF8)
                  .add("FAILOVER")
                  .add(config.masterName())
                  .add("COORDINATED"));
      return Optional.empty();
    } catch (RuntimeException e) {
      String answer = String.valueOf(e.getMessage());
      return answer.startsWith("INPROG") ? Optional.empty() : Optional.of(answer);
    }
  }

  /**
   * SENTINEL FAILOVER on the first member, in discovery order, that is not excluded and accepts it
   * (INPROG counts as accepted); an excluded member is never asked. Returns that Sentinel.
   */
  public Optional<Address> failoverAvoiding(Predicate<Address> excluded) {
    return members.values().stream()
        .map(m -> m.address)
        .filter(excluded.negate())
        .filter(this::failoverOn)
        .findFirst();
  }

  /** The members, those that pass the test first, each group in discovery order. */
  private List<SentinelLink> preferring(Predicate<Address> first) {
    List<SentinelLink> ordered = new ArrayList<>();
    members.values().stream().filter(m -> first.test(m.address)).forEach(ordered::add);
    members.values().stream().filter(m -> !first.test(m.address)).forEach(ordered::add);
    return ordered;
  }

  /**
   * How long this member has before it calls the primary down, or empty when it does not answer.
   */
  public Optional<DownAfterWindow> downAfterWindow(Address sentinel) {
    SentinelLink m = members.get(sentinel);
    if (m == null || m.commands == null || !m.commands.isOpen()) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          DownAfterWindow.parse(m.address, m.commands.sync().master(config.masterName())));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** What this member knows about the primary, or empty when it does not answer. */
  public Optional<SentinelTable> table(Address sentinel) {
    SentinelLink m = members.get(sentinel);
    if (m == null || m.commands == null || !m.commands.isOpen()) {
      return Optional.empty();
    }
    try {
      var sync = m.commands.sync();
      return Optional.of(
          SentinelTable.parse(
              m.address,
              sync.master(config.masterName()),
              sync.dispatch(
                  CommandType.SENTINEL,
                  new ListOfMapsOutput<>(StringCodec.UTF8),
                  new CommandArgs<>(StringCodec.UTF8).add("SENTINELS").add(config.masterName())),
              sync.replicas(config.masterName())));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The members' addresses, in discovery order. */
  public List<Address> members() {
    return List.copyOf(members.keySet());
  }

  /**
   * SENTINEL RESET of the primary on this member: it forgets the replicas and Sentinels it knows
   * and rediscovers those that are alive (replicas from the primary's INFO, Sentinels from their
   * hello messages). True when the member answered.
   */
  public boolean reset(Address sentinel) {
    SentinelLink m = members.get(sentinel);
    if (m == null || m.commands == null || !m.commands.isOpen()) {
      return false;
    }
    try {
      // The argument is a glob pattern: escape one, so that only this name matches.
      m.commands.sync().reset(config.masterName().replaceAll("([*?\\[\\]\\\\])", "\\\\$1"));
      return true;
    } catch (RuntimeException e) {
      log.warn("action=sentinel-reset-failed sentinel={} error=\"{}\"", sentinel, e.getMessage());
      return false;
    }
  }

  /** The replica this Sentinel selected in its failover (flag "promoted"), if it selected one. */
  public Optional<Address> promotedReplica(Address sentinel) {
    SentinelLink m = members.get(sentinel);
    if (m == null || m.commands == null || !m.commands.isOpen()) {
      return Optional.empty();
    }
    CommandArgs<String, String> args =
        new CommandArgs<>(StringCodec.UTF8).add("REPLICAS").add(config.masterName());
    try {
      List<Map<String, String>> replicas =
          m.commands
              .sync()
              .dispatch(CommandType.SENTINEL, new ListOfMapsOutput<>(StringCodec.UTF8), args);
      return replicas.stream()
          .filter(r -> List.of(r.getOrDefault("flags", "").split(",")).contains("promoted"))
          .map(r -> new Address(r.get("ip"), Integer.parseInt(r.get("port"))))
          .findFirst();
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  public int known() {
    return members.size();
  }

  public int connected() {
    return (int) members.values().stream().filter(SentinelLink::isSubscribed).count();
  }

  @Override
  public synchronized void close() {
    closed = true;
    discovery.shutdownNow();
    members.values().forEach(SentinelLink::close);
    members.clear();
    seedClient.shutdown(Duration.ZERO, Duration.ofSeconds(1));
  }

  /** One Sentinel: pub/sub for events, a command connection for questions. */
  private final class SentinelLink {
    final Address address;
    final String runId;
    final RedisClient client;
    volatile String lastError;
    volatile StatefulRedisPubSubConnection<String, String> pubsub;
    volatile StatefulRedisSentinelConnection<String, String> commands;

    SentinelLink(Address address, String runId) {
      this.address = address;
      this.runId = runId;
      this.client = LettuceClients.client(resources, TIMEOUT, true, tls);
      client.addListener(
          new RedisConnectionStateListener() {
            @Override
            public void onRedisConnected(
                RedisChannelHandler<?, ?> connection, SocketAddress socketAddress) {
              wake.run(); // messages sent while we were away are lost: re-read the truth
            }

            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
              if (!closed) {
                log.warn("action=sentinel-disconnected sentinel={}", address);
                wake.run();
              }
            }
          });
    }

    /** Connects what is missing; a Sentinel down at start is retried at the next discovery. */
    void connectIfNeeded() {
      var uri = LettuceClients.uri(address, credentials(), TIMEOUT, tls);
      try {
        if (commands == null) {
          commands = client.connectSentinel(uri);
        }
        if (pubsub == null) {
          var ps = client.connectPubSub(uri);
          ps.addListener(
              new RedisPubSubAdapter<>() {
                @Override
                public void message(String channel, String message) {
                  onMessage(address, channel, message);
                }
              });
          ps.sync().subscribe(CHANNELS.toArray(String[]::new));
          pubsub = ps;
          log.info("action=sentinel-subscribe sentinel={}", address);
          wake.run();
        }
        lastError = null;
      } catch (RuntimeException e) {
        String error = TlsFailure.describe(e);
        if (!error.equals(lastError)) { // once until it changes, not every resync
          log.warn("action=sentinel-unreachable sentinel={} error=\"{}\"", address, error);
        }
        lastError = error;
      }
    }

    RedisFuture<SocketAddress> askPrimary() {
      var c = commands;
      if (c == null || !c.isOpen()) {
        return null;
      }
      try {
        return c.async().getMasterAddrByName(config.masterName());
      } catch (RuntimeException e) {
        return null;
      }
    }

    boolean isSubscribed() {
      var ps = pubsub;
      return ps != null && ps.isOpen();
    }

    void close() {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }
  }

  private void onMessage(Address from, String channel, String message) {
    long now = System.nanoTime();
    if ("+switch-master".equals(channel)) {
      SwitchMessage.parse(message)
          .filter(s -> s.masterName().equals(config.masterName()))
          .ifPresent(
              s -> {
                if (clock.record(s.to(), now)) {
                  log.info(
                      "action=switch-master-seen sentinel={} from={} to={}",
                      from,
                      s.from(),
                      s.to());
                }
              });
    } else if ("+sentinel".equals(channel)) {
      discoverSoon();
    }
    wake.run();
  }

  /** The majority answer (if any) and every vote. */
  public record Truth(
      Optional<Address> primary, Map<Address, Integer> votes, int asked, int answered) {
    public String describe() {
      return "votes=" + votes + " asked=" + asked + " answered=" + answered;
    }
  }
}
