package io.valkeyk8s.testserver.probe;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.netty.handler.codec.DecoderException;
import java.net.ConnectException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class ErrorKindTest {

  @Test
  void lettuceExceptionTypes() {
    assertThat(
            ErrorKind.classify(new RedisCommandTimeoutException("Command timed out after 250 ms")))
        .isEqualTo(ErrorKind.TIMEOUT);
    assertThat(
            ErrorKind.classify(
                new RedisConnectionException(
                    "Unable to connect to 127.0.0.1:6379",
                    new ConnectException("Connection refused"))))
        .isEqualTo(ErrorKind.CONNECTION);
    assertThat(ErrorKind.classify(new RedisException("Connection closed")))
        .isEqualTo(ErrorKind.CONNECTION);
    assertThat(
            ErrorKind.classify(
                new RedisException("Currently not connected. Commands are rejected.")))
        .isEqualTo(ErrorKind.CONNECTION);
  }

  @Test
  void serverErrorCodes() {
    assertThat(classifyReply("READONLY You can't write against a read only replica."))
        .isEqualTo(ErrorKind.READONLY);
    assertThat(classifyReply("NOREPLICAS Not enough good replicas to write."))
        .isEqualTo(ErrorKind.NOREPLICAS);
    assertThat(classifyReply("LOADING Valkey is loading the dataset in memory"))
        .isEqualTo(ErrorKind.LOADING);
    assertThat(classifyReply("MASTERDOWN Link with MASTER is down"))
        .isEqualTo(ErrorKind.MASTERDOWN);
    assertThat(classifyReply("WRONGPASS invalid username-password pair or user is disabled."))
        .isEqualTo(ErrorKind.AUTH);
    assertThat(classifyReply("NOPERM User client has no permissions to run the 'flushall' command"))
        .isEqualTo(ErrorKind.AUTH);
    assertThat(classifyReply("ERR unknown command")).isEqualTo(ErrorKind.OTHER);
  }

  @Test
  void authFailureDuringConnectIsAuthNotConnection() {
    RedisConnectionException connect =
        new RedisConnectionException(
            "Unable to connect",
            new RedisCommandExecutionException("WRONGPASS invalid username-password pair"));
    assertThat(ErrorKind.classify(connect)).isEqualTo(ErrorKind.AUTH);
  }

  @Test
  void clusterReplies() {
    assertThat(classifyReply("CLUSTERDOWN The cluster is down")).isEqualTo(ErrorKind.CLUSTERDOWN);
    assertThat(classifyReply("TRYAGAIN Multiple keys request during rehashing of slot"))
        .isEqualTo(ErrorKind.TRYAGAIN);
    assertThat(classifyReply("MOVED 3999 127.0.0.1:6381")).isEqualTo(ErrorKind.MOVED);
    assertThat(classifyReply("ASK 3999 127.0.0.1:6381")).isEqualTo(ErrorKind.ASK);
    assertThat(ErrorKind.CLUSTERDOWN.label()).isEqualTo("clusterdown");
  }

  @Test
  void aFailedHandshakeIsTlsEvenInsideAConnectionError() {
    RedisConnectionException handshake =
        new RedisConnectionException(
            "Unable to connect to 10.0.0.1:6379",
            new DecoderException(
                new SSLHandshakeException("PKIX path building failed: unable to find a path")));
    assertThat(ErrorKind.classify(handshake)).isEqualTo(ErrorKind.TLS);
    assertThat(ErrorKind.TLS.label()).isEqualTo("tls");
    // A server reply still wins: the handshake worked, the login did not.
    assertThat(
            ErrorKind.classify(
                new RedisConnectionException(
                    "Unable to connect",
                    new RedisCommandExecutionException(
                        "WRONGPASS invalid", new SSLException("later")))))
        .isEqualTo(ErrorKind.AUTH);
  }

  @Test
  void unknownFailureIsOther() {
    assertThat(ErrorKind.classify(new IllegalStateException("boom"))).isEqualTo(ErrorKind.OTHER);
    assertThat(ErrorKind.OTHER.label()).isEqualTo("other");
  }

  private static ErrorKind classifyReply(String reply) {
    return ErrorKind.classify(new RedisCommandExecutionException(reply));
  }
}
