package io.valkeyk8s.reconciler.core;

import java.util.regex.Pattern;

/** Syntax rules of Kubernetes label names and values. */
public final class Labels {
  private static final Pattern NAME_PART =
      Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]");
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  private Labels() {}

  public static boolean isValidName(String name) {
    int slash = name.indexOf('/');
    String part = slash < 0 ? name : name.substring(slash + 1);
    if (slash >= 0) {
      String prefix = name.substring(0, slash);
      if (prefix.isEmpty() || prefix.length() > 253 || !DNS_SUBDOMAIN.matcher(prefix).matches()) {
        return false;
      }
    }
    return part.length() <= 63 && NAME_PART.matcher(part).matches();
  }

  public static boolean isValidValue(String value) {
    return value.isEmpty() || (value.length() <= 63 && NAME_PART.matcher(value).matches());
  }
}
