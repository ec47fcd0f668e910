package io.handoff.hub.support;

import org.eclipse.microprofile.config.ConfigProvider;

/** The management interface (health, metrics) of the hub under test. */
public final class Management {

    private Management() {
    }

    public static int port() {
        return ConfigProvider.getConfig().getValue("quarkus.management.test-port", Integer.class);
    }
}
