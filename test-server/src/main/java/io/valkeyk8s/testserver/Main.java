package io.valkeyk8s.testserver;

/** Entry point of the test server. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.out.println("valkey-test-server");
  }
}
