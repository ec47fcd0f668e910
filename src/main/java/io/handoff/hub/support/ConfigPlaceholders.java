package io.handoff.hub.support;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.Ordered;
import org.apache.camel.quarkus.main.events.BeforeInitialize;
import org.apache.camel.spi.PropertiesSource;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Resolves Camel's property placeholders ({@code {{hub.…}}} in the YAML routes) from the hub's configuration, one key
 * at a time, ahead of Camel Quarkus' own MicroProfile Config source.
 *
 * <p>Both sources read the same configuration; the difference is cost. Camel 4.17's {@code DefaultPropertiesLookup}
 * notes where each placeholder came from, and for a source that can list all its properties (as the MicroProfile Config
 * source can) it does so by loading <em>every</em> property of the configuration again, once per resolved placeholder.
 * The error handlers of the route configurations resolve their redelivery settings for every processor they wrap, so
 * that was some 1.7 s of the hub's start on two cores (a JFR profile of start-up: a quarter of the main thread's
 * samples). This source cannot list its properties, so a lookup it answers costs one read of one key.
 */
public final class ConfigPlaceholders implements PropertiesSource, Ordered {

    @Override
    public String getName() {
        return "hub-config";
    }

    @Override
    public String getProperty(String name) {
        return ConfigProvider.getConfig().getOptionalValue(name, String.class).orElse(null);
    }

    /** Ahead of every other source, so that it answers every placeholder the configuration has. */
    @Override
    public int getOrder() {
        return Ordered.HIGHEST;
    }

    /** Adds the source before Camel loads and initialises the routes. */
    @ApplicationScoped
    static class Registration {
        void beforeCamelInitializes(@Observes BeforeInitialize event) {
            event.getCamelContext().getPropertiesComponent().addPropertiesSource(new ConfigPlaceholders());
        }
    }
}
