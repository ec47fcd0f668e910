package io.handoff.hub.kafka;

import static io.handoff.hub.support.HubTestResource.SHOPIFY_SECRET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import io.handoff.hub.support.Fixtures;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.KafkaProbe;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * With external bootstrap servers (KAFKA_BOOTSTRAP_SERVERS, here as hub.kafka.bootstrap-servers) the hub starts no
 * broker of its own, creates its topics on the external cluster and publishes there.
 */
@QuarkusTest
@TestProfile(ExternalKafkaTest.ExternalKafka.class)
class ExternalKafkaTest {

    public static class ExternalKafka implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(ExternalBroker.class));
        }
    }

    /** A broker the hub did not start: stands in for the production cluster. */
    public static class ExternalBroker implements QuarkusTestResourceLifecycleManager {
        static EmbeddedKafkaBroker broker;

        @Override
        public Map<String, String> start() {
            broker = new EmbeddedKafkaBroker(HubTestResource.freePort(), HubTestResource.freePort(),
                    Path.of("target", "external-kafka", UUID.randomUUID().toString()));
            broker.start();
            return Map.of("hub.kafka.bootstrap-servers", broker.bootstrapServers(),
                    "camel.component.kafka.brokers", broker.bootstrapServers());
        }

        @Override
        public void stop() {
            broker.stop();
        }
    }

    @Inject
    KafkaBootstrap kafka;

    @Inject
    HubTopics topics;

    @Test
    void noEmbeddedBrokerStartsAndEventsGoToTheExternalCluster() throws Exception {
        assertTrue(kafka.embeddedBroker().isEmpty(), "the hub started no broker of its own");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                ExternalBroker.broker.bootstrapServers()))) {
            assertTrue(admin.listTopics().names().get().containsAll(topics.all()), "topics created on the cluster");
        }
        byte[] body = Fixtures.shopifyPayload("orders-create.json");
        try (KafkaProbe probe = new KafkaProbe(ExternalBroker.broker.bootstrapServers(), List.of("handoff.order"))) {
            Map<TopicPartition, Long> mark = probe.mark();
            Webhooks.postShopify(Webhooks.shopifyHeaders("orders/create", UUID.randomUUID().toString(), body,
                    SHOPIFY_SECRET), body).then().statusCode(200);
            assertEquals(1, probe.since(mark).size());
        }
    }
}
