package io.handoff.hub.propagation;

import java.util.Optional;

import org.eclipse.microprofile.config.Config;

/**
 * One subscriber system's settings, read by name from {@code hub.systems.<name>.*} (env
 * {@code HUB_SYSTEMS_<NAME>_*}). In the sandbox, credentials a simulated system does not check default to
 * {@code sandbox}; outside it a missing credential stops the lane from starting, with the key named.
 */
public record SystemConfig(String name, String baseUrl, Config config, boolean sandbox) {

    public String key(String suffix) {
        return "hub.systems." + name + "." + suffix;
    }

    public Optional<String> optional(String suffix) {
        return config.getOptionalValue(key(suffix), String.class).map(String::strip).filter(s -> !s.isEmpty());
    }

    /** A credential or other required setting. */
    public String required(String suffix) {
        return optional(suffix).orElseGet(() -> {
            if (sandbox) {
                return "sandbox";
            }
            throw new IllegalStateException(name + " is switched on (" + key("base-url") + ") but " + key(suffix)
                    + " is not set (env " + key(suffix).toUpperCase().replace('.', '_').replace('-', '_') + ")");
        });
    }

    public String value(String suffix, String defaultValue) {
        return optional(suffix).orElse(defaultValue);
    }

    public int intValue(String suffix, int defaultValue) {
        return optional(suffix).map(Integer::parseInt).orElse(defaultValue);
    }

    /** The base URL without a trailing slash, followed by {@code path}. */
    public String url(String path) {
        String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        return base + path;
    }
}
