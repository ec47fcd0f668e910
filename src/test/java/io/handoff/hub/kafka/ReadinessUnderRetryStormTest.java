package io.handoff.hub.kafka;

import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.handoff.hub.intake.IntakeAdmission;
import io.handoff.hub.support.HubTestResource;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.Management;
import io.handoff.hub.support.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;

/**
 * A retry storm while Kafka is down: four times as many deliveries at once as the replica takes, each one it takes
 * waiting for Kafka on a worker thread for longer than the probe's timeout (the producer's timeouts raised by the
 * profile). The readiness probe still answers within its timeout (k8s/base/deployment.yaml): the deliveries beyond the
 * replica's places are answered 503 at once by the worker threads left free, instead of queueing for a thread with
 * the probe's checks behind them (with Quarkus' default pool of 200 threads for 256 places, this probe timed out).
 */
@QuarkusTest
@QuarkusTestResource(HubTestResource.class)
@TestProfile(ReadinessUnderRetryStormTest.SlowKafkaSends.class)
class ReadinessUnderRetryStormTest {

    /** A send to an unreachable Kafka holds its delivery's worker thread for 8 s, longer than the probe waits. */
    public static class SlowKafkaSends implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("camel.component.kafka.max-block-ms", "8000",
                    "camel.component.kafka.delivery-timeout-ms", "9000");
        }
    }

    /** The readiness probe's {@code timeoutSeconds} in k8s/base/deployment.yaml. */
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);

    @Inject
    KafkaBootstrap kafka;

    @Inject
    IntakeAdmission admission;

    @ConfigProperty(name = "hub.intake.max-in-flight")
    int maxInFlight;

    @Test
    void readinessAnswersWithinTheProbeTimeoutWhileEveryIntakePlaceWaitsForKafka() throws Exception {
        EmbeddedKafkaBroker broker = kafka.embeddedBroker().orElseThrow();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String hub = "http://localhost:" + RestAssured.port;
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        HttpResponse<String> readiness;

        broker.stop();
        try {
            // Far more deliveries at once than the replica takes: each one it takes waits for Kafka (up to the
            // producer's timeouts) on a worker thread.
            for (int i = 0; i < 4 * maxInFlight; i++) {
                Webhooks.ShopifyDelivery delivery = Webhooks.ShopifyDelivery.consentSample();
                answers.add(client.sendAsync(Webhooks.shopifyRequest(hub, Webhooks.SHOPIFY_CONSENT_TOPIC,
                        delivery.webhookId(), delivery.body(), HubTestResource.SHOPIFY_SECRET),
                        HttpResponse.BodyHandlers.ofString()));
            }
            await("the storm arriving").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
                    .until(() -> admission.inFlight() >= maxInFlight * 3 / 4);

            readiness = client.send(HttpRequest.newBuilder(
                    URI.create("http://localhost:" + Management.port() + "/q/health/ready")).timeout(PROBE_TIMEOUT)
                    .build(), HttpResponse.BodyHandlers.ofString());

            // Every delivery answered while Kafka is still down: 503 with Retry-After (Kafka down, or no place).
            Map<String, Integer> codes = new TreeMap<>();
            for (CompletableFuture<HttpResponse<String>> answer : answers) {
                HttpResponse<String> response = answer.join();
                assertEquals(503, response.statusCode(), response.body());
                assertTrue(response.headers().firstValue("Retry-After").isPresent(), response.body());
                codes.merge(Json.MAPPER.readTree(response.body()).path("error").path("code").asText(), 1, Integer::sum);
            }
            assertEquals(List.of("overloaded", "unavailable"), List.copyOf(codes.keySet()), codes.toString());
        } finally {
            broker.start();
        }

        assertEquals(503, readiness.statusCode(), readiness.body());
        List<String> kafkaChecks = new ArrayList<>();
        Json.MAPPER.readTree(readiness.body()).path("checks").forEach(check -> {
            if ("kafka".equals(check.path("name").asText())) {
                kafkaChecks.add(check.path("status").asText());
            }
        });
        assertEquals(List.of("DOWN"), kafkaChecks, readiness.body());

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                RestAssured.given().port(Management.port()).get("/q/health/ready").then().statusCode(200)
                        .body("checks.find { it.name == 'kafka' }.status", equalTo("UP")));
    }
}
