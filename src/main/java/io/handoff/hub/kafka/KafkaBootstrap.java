package io.handoff.hub.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.quarkus.main.events.AfterStop;
import org.apache.camel.quarkus.main.events.BeforeStart;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Brings Kafka up before Camel starts its routes: starts the embedded broker when no external cluster is configured,
 * then creates the hub's topics that are missing. The embedded broker is stopped only after Camel has stopped, so the
 * routes' consumers leave their groups cleanly (stopping it earlier stalls the next start's group join).
 */
@ApplicationScoped
public class KafkaBootstrap {

    private static final Logger LOG = Logger.getLogger(KafkaBootstrap.class);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    private final KafkaSettings settings;
    private final HubTopics topics;
    private final String bootstrapServers;
    private EmbeddedKafkaBroker broker;
    private long brokerStartMs;

    public KafkaBootstrap(KafkaSettings settings, HubTopics topics,
            @ConfigProperty(name = "camel.component.kafka.brokers") String bootstrapServers) {
        this.settings = settings;
        this.topics = topics;
        this.bootstrapServers = bootstrapServers;
    }

    void beforeCamelStarts(@Observes BeforeStart event) {
        if (settings.embeddedBroker()) {
            startEmbeddedBroker();
        } else {
            LOG.debugf("using external Kafka at %s", bootstrapServers);
        }
        if (settings.topics().create()) {
            createTopics();
        }
    }

    void afterCamelStopped(@Observes AfterStop event) {
        if (broker != null) {
            broker.stop();
            LOG.info("embedded Kafka broker stopped");
        }
    }

    /** For the start-up summary: the embedded broker and its start time, or the external cluster. */
    public String describe() {
        return broker == null ? "external at " + bootstrapServers
                : "embedded broker on " + broker.bootstrapServers() + " (data in " + broker.logDir() + ", started in "
                        + brokerStartMs + " ms)";
    }

    /** The embedded broker, if the hub runs one. */
    public Optional<EmbeddedKafkaBroker> embeddedBroker() {
        return Optional.ofNullable(broker);
    }

    private void startEmbeddedBroker() {
        KafkaSettings.Embedded embedded = settings.embedded();
        EmbeddedKafkaBroker wanted = new EmbeddedKafkaBroker(embedded.port(), embedded.controllerPort(),
                embedded.logDir());
        if (!bootstrapServers.equals(wanted.bootstrapServers())) {
            // Refused before taking an early broker over: that one is stopped with the failed start's beans.
            throw new IllegalStateException("camel.component.kafka.brokers is " + bootstrapServers
                    + " but the embedded broker listens on " + wanted.bootstrapServers());
        }
        // Started from the configuration as it was at boot: used only if it agrees with the settings now.
        Optional<EarlyBrokerStart.Started> early = EarlyBrokerStart.take();
        if (early.isPresent() && early.get().broker().sameAs(wanted)) {
            broker = early.get().broker();
            brokerStartMs = early.get().startMs();
        } else {
            early.ifPresent(started -> {
                LOG.debugf("the broker started at boot (%s, %s) does not match the settings; starting another",
                        started.broker().bootstrapServers(), started.broker().logDir());
                started.broker().stop();
            });
            broker = wanted;
            long started = System.nanoTime();
            broker.start();
            brokerStartMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        }
        LOG.debugf("embedded Kafka broker started on %s (data in %s) in %d ms", broker.bootstrapServers(),
                broker.logDir(), brokerStartMs);
    }

    private void createTopics() {
        Map<String, Object> config = new HashMap<>();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT.toMillis());
        try (Admin admin = Admin.create(config)) {
            Set<String> existing = admin.listTopics().names().get(ADMIN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            Optional<Short> replication = settings.topics().replicationFactor() > 0
                    ? Optional.of(settings.topics().replicationFactor())
                    : Optional.empty();
            List<NewTopic> missing = topics.all().stream()
                    .filter(name -> !existing.contains(name))
                    .map(name -> new NewTopic(name, Optional.of(settings.topics().partitions()), replication))
                    .toList();
            if (missing.isEmpty()) {
                return;
            }
            for (var result : admin.createTopics(missing).values().entrySet()) {
                try {
                    result.getValue().get(ADMIN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                    LOG.infof("created topic %s", result.getKey());
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("could not create the hub's Kafka topics at " + bootstrapServers, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating Kafka topics", e);
        }
    }
}
