package io.valkeyk8s.testsupport;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension handing a {@link KubeApiServer} to test constructors and methods. One server
 * per test run (it takes seconds to start): it lives in the root store and is stopped when the run
 * ends, also after failures. Tests isolate themselves with their own namespace.
 */
public final class KubeApiServerExtension implements ParameterResolver {
  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == KubeApiServer.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return context
        .getRoot()
        .getStore(ExtensionContext.Namespace.create(KubeApiServerExtension.class))
        .getOrComputeIfAbsent("server", k -> new Holder(KubeApiServer.start()), Holder.class)
        .server;
  }

  /** Closed by JUnit when the root context closes. */
  private record Holder(KubeApiServer server)
      implements ExtensionContext.Store.CloseableResource, AutoCloseable {
    @Override
    public void close() {
      server.close();
    }
  }
}
