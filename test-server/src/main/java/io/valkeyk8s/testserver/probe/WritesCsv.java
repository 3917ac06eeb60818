package io.valkeyk8s.testserver.probe;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Every write of a run, one CSV line each ({@code id,start,end,latencyMs,result}), for benchmarks
 * that want more than the windows. {@code result} is {@code ok} or the error kind.
 */
public final class WritesCsv {
  private WritesCsv() {}

  public static void write(Path file, ProbeClock clock, List<WriteAttempt> attempts) {
    try (Writer out = Files.newBufferedWriter(file)) {
      out.write("id,start,end,latencyMs,result\n");
      for (WriteAttempt a : attempts) {
        out.write(
            a.id()
                + ","
                + clock.instantAt(a.startNanos())
                + ","
                + clock.instantAt(a.endNanos())
                + ","
                + (a.endNanos() - a.startNanos()) / 1_000_000
                + ","
                + (a.isAcked() ? "ok" : a.error().label())
                + "\n");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
