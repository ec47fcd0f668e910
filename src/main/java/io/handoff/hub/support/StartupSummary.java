package io.handoff.hub.support;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Optional;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.CamelContext;
import org.apache.camel.quarkus.main.events.AfterStart;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.handoff.hub.kafka.KafkaBootstrap;
import io.handoff.hub.propagation.PropagationLanes;
import io.handoff.hub.sandbox.SandboxSettings;

/**
 * One INFO line once every route runs: what this hub is connected to (Kafka, the database, the routes folder, the
 * subscriber systems, the sandbox, the admin API) and how long it took since the JVM started. Credentials and URL
 * parameters are left out.
 */
@ApplicationScoped
public class StartupSummary {

    private static final Logger LOG = Logger.getLogger("io.handoff.hub");

    private final CamelContext camel;
    private final KafkaBootstrap kafka;
    private final PropagationLanes lanes;
    private final SandboxSettings sandbox;
    private final Config config;
    private final String dbKind;
    private final String routesDir;
    private final boolean adminApi;

    public StartupSummary(CamelContext camel, KafkaBootstrap kafka, PropagationLanes lanes, SandboxSettings sandbox,
            Config config, @ConfigProperty(name = "hub.db.kind") String dbKind,
            @ConfigProperty(name = "hub.routes-dir") String routesDir,
            @ConfigProperty(name = "hub.admin.token") Optional<String> adminToken) {
        this.camel = camel;
        this.kafka = kafka;
        this.lanes = lanes;
        this.sandbox = sandbox;
        this.config = config;
        this.dbKind = dbKind;
        this.routesDir = routesDir;
        this.adminApi = adminToken.filter(t -> !t.isBlank()).isPresent();
    }

    /** After every other AfterStart observer (the lanes, the schedules): the hub is then all up. */
    void started(@Observes @Priority(Integer.MAX_VALUE) AfterStart event) {
        LOG.info(line());
    }

    String line() {
        String url = config.getOptionalValue("quarkus.datasource." + dbKind + ".jdbc.url", String.class).orElse("?");
        return "Handoff started in " + ManagementFactory.getRuntimeMXBean().getUptime() + " ms: Kafka "
                + kafka.describe() + "; database " + dbKind + " " + withoutParameters(url) + "; "
                + camel.getRoutes().size() + " routes from " + Path.of(routesDir).toAbsolutePath().normalize()
                + "; subscribers " + (lanes.systems().isEmpty() ? "none" : String.join(", ", lanes.systems()))
                + "; sandbox " + (sandbox.enabled() ? "on (simulated vendors under /sandbox)" : "off")
                + "; admin API " + (adminApi ? "on" : "off (no HUB_ADMIN_TOKEN)");
    }

    /** A JDBC URL without its parameters (H2's settings after ';', PostgreSQL's query, which may hold a password). */
    static String withoutParameters(String url) {
        int cut = url.length();
        for (char c : new char[] { ';', '?' }) {
            int at = url.indexOf(c);
            if (at >= 0 && at < cut) {
                cut = at;
            }
        }
        return url.substring(0, cut);
    }
}
