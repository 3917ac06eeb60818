package io.valkeyk8s.reconciler.testing;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What the reconciler logs while this is open (slf4j-simple writes to {@code System.err}, looked up
 * at every event), still passed through to the real stderr.
 */
public final class LogCapture implements AutoCloseable {
  private final PrintStream original = System.err;
  private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

  public LogCapture() {
    OutputStream tee =
        new OutputStream() {
          @Override
          public void write(int b) {
            synchronized (captured) {
              captured.write(b);
            }
            original.write(b);
          }

          @Override
          public void write(byte[] b, int off, int len) {
            synchronized (captured) {
              captured.write(b, off, len);
            }
            original.write(b, off, len);
          }
        };
    System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
  }

  public List<String> lines() {
    synchronized (captured) {
      return captured.toString(StandardCharsets.UTF_8).lines().toList();
    }
  }

  /** The captured lines that contain every one of these fragments. */
  public List<String> linesWith(String... fragments) {
    return lines().stream().filter(l -> List.of(fragments).stream().allMatch(l::contains)).toList();
  }

  @Override
  public void close() {
    System.setErr(original);
  }
}
