package io.valkeyk8s.reconciler.sentinel;

import io.valkeyk8s.testsupport.KubeApiServer;

/**
 * Every scenario of {@link SentinelModeIT} with TLS only: servers, Sentinels and the links between
 * them on TLS ports (plaintext closed), client certificates required, and the reconciler verifying
 * every certificate and host against the CA (VALKEY_TLS, VALKEY_TLS_CA_FILE, a client certificate).
 */
class SentinelModeTlsIT extends SentinelModeIT {
  SentinelModeTlsIT(KubeApiServer api) {
    super(api);
  }

  @Override
  SentinelScenario scenario(KubeApiServer api) throws Exception {
    return new SentinelScenario(api, "yes");
  }
}
