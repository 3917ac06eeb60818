package io.valkeyk8s.reconciler;

/** Entry point; wires one mode. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.out.println("valkey-reconciler");
  }
}
