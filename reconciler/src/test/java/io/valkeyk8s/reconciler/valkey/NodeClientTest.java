package io.valkeyk8s.reconciler.valkey;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeClientTest {
  @Test
  void parsesRoleReplies() {
    Role primary =
        Role.parse(
            List.of(
                "master",
                3129L,
                List.of(List.of("10.0.0.2", "6379", "3129"), List.of("10.0.0.3", "6379", "3000"))));
    assertThat(primary.isPrimary()).isTrue();
    assertThat(primary.offset()).isEqualTo(3129L);
    assertThat(primary.replicas())
        .containsExactly(
            new Role.Replica(new Address("10.0.0.2", 6379), 3129),
            new Role.Replica(new Address("10.0.0.3", 6379), 3000));
    Role replica = Role.parse(List.of("slave", "10.0.0.1", 6379L, "connected", 3129L));
    assertThat(replica.isPrimary()).isFalse();
    assertThat(replica.offset()).isEqualTo(3129L);
  }

  @Test
  void parsesRoleRepliesReadAsBytes() {
    Role primary =
        Role.parse(
            List.of(
                bytes("master"),
                10L,
                List.of(List.of(bytes("10.0.0.2"), bytes("6379"), bytes("7")))));
    assertThat(primary.isPrimary()).isTrue();
    assertThat(primary.replicas())
        .containsExactly(new Role.Replica(new Address("10.0.0.2", 6379), 7));
    assertThat(Role.parse(List.of(bytes("sentinel"), List.of())).role()).isEqualTo("sentinel");
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void parsesClientListLines() {
    var f =
        NodeClient.clientFields(
            "id=7 addr=10.0.0.9:4242 laddr=10.0.0.1:6379 fd=9 name=sentinel-1a2b-cmd age=3 flags=N");
    assertThat(f)
        .containsEntry("id", "7")
        .containsEntry("name", "sentinel-1a2b-cmd")
        .containsEntry("flags", "N");
  }
}
