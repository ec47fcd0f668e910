package io.handoff.hub.alerts;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.intake.signed.StandardWebhookVerifier;
import io.handoff.hub.kafka.DeadLetters;
import io.handoff.hub.kafka.HubTopics;
import io.handoff.hub.propagation.Backoff;
import io.handoff.hub.support.Json;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Alerts for operators: each one is logged (WARN, no personal data), counted
 * ({@code handoff_alerts_total{kind}}) and, when {@code hub.alerts.webhook-url} is set, posted there as JSON signed
 * the Standard Webhooks way ({@code webhook-id}, {@code webhook-timestamp},
 * {@code webhook-signature: v1,<base64 HMAC-SHA256>} with {@code hub.alerts.webhook-secret}, a {@code whsec_}
 * secret), so the receiver can verify it came from the hub. A webhook that fails after
 * {@code hub.alerts.webhook-attempts} tries is parked on the dead-letter topic, never lost in a log line.
 */
@ApplicationScoped
public class OpsAlerts {

    private static final Logger LOG = Logger.getLogger(OpsAlerts.class);

    private final MeterRegistry registry;
    private final HubTopics topics;
    private final Optional<String> url;
    private final Optional<String> secret;
    private final int attempts;
    private final Backoff backoff;
    private final ProducerTemplate producer;

    public OpsAlerts(CamelContext camel, MeterRegistry registry, HubTopics topics,
            // Where alerts are posted (an ops tool's inbound webhook); unset: logged and counted only.
            @ConfigProperty(name = "hub.alerts.webhook-url") Optional<String> url,
            // Standard Webhooks secret (whsec_...) the alerts are signed with (env HUB_ALERTS_WEBHOOK_SECRET).
            @ConfigProperty(name = "hub.alerts.webhook-secret") Optional<String> secret,
            // Tries of one alert webhook before it is parked on the dead-letter topic; first backoff in ms.
            @ConfigProperty(name = "hub.alerts.webhook-attempts", defaultValue = "3") int attempts,
            @ConfigProperty(name = "hub.alerts.webhook-backoff-ms", defaultValue = "1000") long backoffMs) {
        this.producer = camel.createProducerTemplate();
        this.registry = registry;
        this.topics = topics;
        this.url = url.map(String::strip).filter(u -> !u.isEmpty());
        this.secret = secret.map(String::strip).filter(s -> !s.isEmpty());
        this.attempts = Math.max(1, attempts);
        this.backoff = new Backoff(Duration.ofMillis(backoffMs), Duration.ofMillis(backoffMs * 8));
        if (this.url.isPresent() && this.secret.isEmpty()) {
            throw new IllegalStateException("hub.alerts.webhook-url is set but hub.alerts.webhook-secret is not"
                    + " (env HUB_ALERTS_WEBHOOK_SECRET): alerts are always signed");
        }
    }

    /**
     * Raises an alert.
     *
     * @param type the alert's type, e.g. {@code reconciliation.drift} (the webhook body's {@code type})
     * @param summary one line for the log and the webhook, without personal data
     * @param data details for the webhook body's {@code data}
     */
    public void raise(String type, String summary, ObjectNode data) {
        LOG.warnf("ALERT %s: %s", type, summary);
        Counter.builder("handoff.alerts").description("alerts raised by type").tag("type", type).register(registry)
                .increment();
        if (url.isEmpty()) {
            return;
        }
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("type", type);
        body.put("timestamp", Instant.now().toString());
        body.put("summary", summary);
        body.set("data", data);
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        String id = "alert_" + UUID.randomUUID();
        String failure = null;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            failure = post(id, bytes);
            if (failure == null) {
                return;
            }
            if (attempt < attempts) {
                try {
                    TimeUnit.MILLISECONDS.sleep(backoff.after(attempt).toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        park(id, type, bytes, failure);
    }

    /** Posts one signed alert; null on a 2xx, else why not. */
    private String post(String id, byte[] body) {
        long timestamp = Instant.now().getEpochSecond();
        String signature = StandardWebhookVerifier.sign(secret.orElseThrow(), id, timestamp, body);
        Exchange result = producer.send("http://ops-alerts?throwExceptionOnFailure=false&connectTimeout=5000"
                + "&responseTimeout=10000", exchange -> {
                    exchange.getMessage().setHeader(Exchange.HTTP_URI, url.orElseThrow());
                    exchange.getMessage().setHeader(Exchange.HTTP_METHOD, "POST");
                    exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
                    exchange.getMessage().setHeader("webhook-id", id);
                    exchange.getMessage().setHeader("webhook-timestamp", Long.toString(timestamp));
                    exchange.getMessage().setHeader("webhook-signature", signature);
                    exchange.getMessage().setBody(body);
                });
        if (result.getException() != null) {
            return result.getException().getClass().getSimpleName() + ": " + result.getException().getMessage();
        }
        Integer status = result.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        return status != null && status >= 200 && status < 300 ? null : "answered " + status;
    }

    private void park(String id, String type, byte[] body, String why) {
        Exchange sent = producer.send("kafka:" + topics.deadLetter(), exchange -> {
            exchange.getMessage().setHeaders(Map.of(KafkaConstants.KEY, id, DeadLetters.ORIGINAL_TOPIC, "ops-alerts",
                    DeadLetters.FAILED_ROUTE, "ops-alerts:" + type, DeadLetters.ERROR, String.valueOf(why),
                    "content-type", "application/json"));
            exchange.getMessage().setBody(body);
        });
        if (sent.getException() != null) {
            LOG.errorf("alert %s (%s) reached neither the ops webhook (%s) nor the dead-letter topic (%s)", id, type,
                    why, sent.getException().getMessage());
        } else {
            LOG.warnf("alert %s (%s) could not be posted (%s): parked on %s", id, type, why, topics.deadLetter());
        }
    }

}
