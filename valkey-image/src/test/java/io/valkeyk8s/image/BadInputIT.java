package io.valkeyk8s.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Volume;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input stops the container at once, with exit code 2 and exactly one line saying why. */
class BadInputIT {

  @Test
  void missingPasswordStops() throws Exception {
    Map<String, String> env = new HashMap<>(ValkeyContainers.passwords());
    env.remove("VALKEY_CLIENT_PASSWORD");
    assertStopsWithOneLine(run(env, List.of()), "VALKEY_CLIENT_PASSWORD is missing or empty");
  }

  @Test
  void emptyPasswordStops() throws Exception {
    Map<String, String> env = new HashMap<>(ValkeyContainers.passwords());
    env.put("VALKEY_ADMIN_PASSWORD", "");
    assertStopsWithOneLine(run(env, List.of()), "VALKEY_ADMIN_PASSWORD is missing or empty");
  }

  @Test
  void sentinelModeNeedsTheSentinelPassword() throws Exception {
    Map<String, String> env = new HashMap<>(ValkeyContainers.passwords());
    env.put("VALKEY_MODE", "sentinel");
    env.put("VALKEY_PEERS", "valkey-0 valkey-1");
    assertStopsWithOneLine(run(env, List.of()), "VALKEY_SENTINEL_PASSWORD is missing or empty");
  }

  @Test
  void sentinelRoleNeedsItsPassword() throws Exception {
    var exit =
        ValkeyContainers.runToExit(
            Map.of("VALKEY_PEERS", "valkey-0 valkey-1"), List.of(), null, "sentinel");
    assertStopsWithOneLine(exit, "VALKEY_SENTINEL_PASSWORD is missing or empty");
  }

  @Test
  void unknownPersistenceModeStops() throws Exception {
    Map<String, String> env = new HashMap<>(ValkeyContainers.passwords());
    env.put("VALKEY_PERSISTENCE", "rdb,snapshot");
    assertStopsWithOneLine(run(env, List.of()), "unknown VALKEY_PERSISTENCE 'rdb,snapshot'");
  }

  @Test
  void unreadableTemplateStops(@TempDir Path templates) throws Exception {
    // Mounted like the chart's ConfigMap; valkey.conf cannot be read by uid 999.
    Files.setPosixFilePermissions(templates, PosixFilePermissions.fromString("rwxr-xr-x"));
    for (String name : List.of("users.acl", "valkey.conf", "sentinel.conf")) {
      Path file = templates.resolve(name);
      Files.writeString(file, "# placeholder\n");
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    }
    Files.setPosixFilePermissions(
        templates.resolve("valkey.conf"), PosixFilePermissions.fromString("---------"));
    Bind mount = new Bind(templates.toString(), new Volume("/etc/valkey/templates"));
    assertStopsWithOneLine(
        run(ValkeyContainers.passwords(), List.of(mount)),
        "cannot read template /etc/valkey/templates/valkey.conf");
  }

  @Test
  void unknownRoleStops() throws Exception {
    var exit = ValkeyContainers.runToExit(ValkeyContainers.passwords(), List.of(), null, "primary");
    assertStopsWithOneLine(exit, "unknown role 'primary'");
  }

  private static ValkeyContainers.Exit run(Map<String, String> env, List<Bind> binds)
      throws InterruptedException {
    return ValkeyContainers.runToExit(env, binds, null, "valkey");
  }

  private static void assertStopsWithOneLine(ValkeyContainers.Exit exit, String reason) {
    assertThat(exit.code()).as(exit.output()).isEqualTo(2);
    assertThat(exit.lines())
        .singleElement()
        .asString()
        .startsWith("valkey-entrypoint: error: ")
        .contains(reason);
  }
}
