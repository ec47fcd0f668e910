package io.handoff.hub.kafka;

import java.time.Duration;
import java.util.Map;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.quarkus.main.events.BeforeStop;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;

/**
 * Readiness: the Kafka cluster answers and has at least one broker. A hub that cannot reach Kafka would answer every
 * webhook 503, so it should not receive traffic.
 * <p>
 * Asynchronous: the cluster's answer completes the check, which holds no worker thread while it waits (up to its
 * timeout when Kafka is down). Webhook deliveries run on those worker threads, and a probe waiting behind them in a
 * retry storm would time out and take the replica out of service just when it is needed.
 */
@Readiness
@ApplicationScoped
public class KafkaReadinessCheck implements AsyncHealthCheck {

    private static final int TIMEOUT_MS = 2000;

    private final String bootstrapServers;
    private Admin admin;
    private volatile boolean stopping;

    public KafkaReadinessCheck(@ConfigProperty(name = "camel.component.kafka.brokers") String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("kafka")
                .withData("bootstrap.servers", bootstrapServers);
        if (stopping) {
            return Uni.createFrom().item(response.down().withData("error", "stopping").build());
        }
        return Uni.createFrom()
                .completionStage(() -> admin().describeCluster(new DescribeClusterOptions().timeoutMs(TIMEOUT_MS))
                        .nodes().toCompletionStage())
                .ifNoItem().after(Duration.ofMillis(TIMEOUT_MS + 500)).fail()
                .map(nodes -> response.status(!nodes.isEmpty()).withData("brokers", nodes.size()).build())
                .onFailure().recoverWithItem(e -> response.down().withData("error", e.getClass().getSimpleName())
                        .build());
    }

    private synchronized Admin admin() {
        if (admin == null) {
            if (stopping) {
                throw new IllegalStateException("stopping");
            }
            admin = Admin.create(Map.of(
                    AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, TIMEOUT_MS,
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, TIMEOUT_MS,
                    AdminClientConfig.CLIENT_ID_CONFIG, "handoff-readiness"));
        }
        return admin;
    }

    /**
     * The hub is going down: the check answers DOWN from now on and its client closes before the embedded broker stops
     * (otherwise the client logs a warning per retry once the broker has gone).
     */
    void stopping(@Observes BeforeStop event) {
        stopping = true;
        close();
    }

    @PreDestroy
    synchronized void close() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(1));
            admin = null;
        }
    }
}
