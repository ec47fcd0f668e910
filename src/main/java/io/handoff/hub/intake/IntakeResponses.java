package io.handoff.hub.intake;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.intake.IntakeMetrics.Outcome;
import io.handoff.hub.intake.signed.CanonicalWebhookMapper.SchemaViolationException;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.JsonAnswers;

/**
 * The answers of the webhook endpoints: a JSON body, the status, nothing else (the inbound headers are removed so
 * that none is echoed back), and one count per delivery in {@link IntakeMetrics}. Platforms retry on anything but
 * 2xx, so 2xx is only given once the event is durable on Kafka or was already received.
 */
@ApplicationScoped
@Named("intakeResponses")
public class IntakeResponses {

    private static final Logger LOG = Logger.getLogger(IntakeResponses.class);

    private final IntakeMetrics metrics;

    public IntakeResponses(IntakeMetrics metrics) {
        this.metrics = metrics;
    }

    /** 200: the event is on Kafka (acknowledged by all in-sync replicas). */
    public void accepted(Exchange exchange) {
        CanonicalEvent event = exchange.getProperty(IntakeExchange.EVENT, CanonicalEvent.class);
        ObjectNode body = Json.MAPPER.createObjectNode()
                .put("status", "accepted")
                .put("id", event.id())
                .put("type", event.type().wireName())
                .put("topic", exchange.getProperty(IntakeExchange.KAFKA_TOPIC, String.class));
        LOG.infof("accepted %s delivery %s as %s on %s (key %s)", system(exchange), event.id(),
                event.type().wireName(), exchange.getProperty(IntakeExchange.KAFKA_TOPIC, String.class), event.key());
        answer(exchange, 200, body, Outcome.ACCEPTED);
    }

    /** 200: the delivery id was received before; nothing new is produced. */
    public void duplicate(Exchange exchange) {
        LOG.debugf("duplicate delivery %s", exchange.getProperty(IntakeExchange.DELIVERY_KEY, String.class));
        answer(exchange, 200, Json.MAPPER.createObjectNode().put("status", "duplicate"), Outcome.DUPLICATE);
    }

    /** 200: a verified delivery of a topic the hub does not map. */
    public void ignored(Exchange exchange) {
        answer(exchange, 200, Json.MAPPER.createObjectNode().put("status", "ignored")
                .put("reason", "topic is not mapped"), Outcome.IGNORED);
    }

    /** 4xx for a {@link WebhookRejectedException}. */
    public void rejected(Exchange exchange) {
        WebhookRejectedException rejection = exchange.getProperty(Exchange.EXCEPTION_CAUGHT,
                WebhookRejectedException.class);
        ObjectNode body = error(rejection.code(), rejection.getMessage());
        if (rejection instanceof SchemaViolationException violations) {
            violations.violations().forEach(body.putArray("violations")::add);
        }
        answer(exchange, rejection.status(), body, Outcome.forStatus(rejection.status()));
    }

    /**
     * 503: Kafka or the database could not take the delivery. The delivery id is stored only after Kafka acknowledged
     * (publish-event, eager: false), so the platform's retry is processed, not mistaken for a duplicate.
     */
    public void unavailable(Exchange exchange) {
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        LOG.warnf("%s delivery not accepted, platform will retry: %s", system(exchange), describe(cause));
        answer(exchange, 503, error("unavailable", "the event could not be stored; retry later"), Outcome.UNAVAILABLE,
                "5");
    }

    /**
     * 413: the broker refused the event as too large (its max.message.bytes is below the producer's limit, which the
     * intake checks itself). A retry can never succeed, so the platform is told so instead of 503.
     */
    public void tooLarge(Exchange exchange) {
        LOG.warnf("%s delivery refused by Kafka: %s", system(exchange),
                describe(exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class)));
        answer(exchange, 413, error("payload_too_large", "the event is larger than Kafka takes"),
                Outcome.forStatus(413));
    }

    /** 503 at once: the replica already works on as many deliveries as it takes ({@link IntakeAdmission}). */
    public void overloaded(Exchange exchange) {
        LOG.debugf("%s delivery refused: %s", system(exchange), exchange.getProperty(Exchange.EXCEPTION_CAUGHT,
                Exception.class).getMessage());
        answer(exchange, 503, error("overloaded", "too many deliveries in progress; retry later"),
                Outcome.UNAVAILABLE, "1");
    }

    /** 500: an unexpected error; nothing was stored, so the platform's retry is processed. */
    public void failed(Exchange exchange) {
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        LOG.errorf(cause, "%s delivery failed", system(exchange));
        answer(exchange, 500, error("internal_error", "the delivery could not be processed; retry later"),
                Outcome.FAILED);
    }

    private void answer(Exchange exchange, int status, ObjectNode body, Outcome outcome) {
        answer(exchange, status, body, outcome, null);
    }

    private void answer(Exchange exchange, int status, ObjectNode body, Outcome outcome, String retryAfter) {
        metrics.count(system(exchange), exchange.getProperty(IntakeExchange.TOPIC_LABEL, String.class), outcome);
        JsonAnswers.answer(exchange, status, body, retryAfter);
    }

    private static ObjectNode error(String code, String message) {
        return JsonAnswers.error(code, message);
    }

    private static String system(Exchange exchange) {
        return exchange.getProperty(IntakeExchange.SYSTEM, String.class);
    }

    /** Exception class and message only: Kafka and JDBC messages carry no payload data. */
    private static String describe(Throwable e) {
        if (e == null) {
            return "unknown cause";
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage()
                + (root != e ? " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")" : "");
    }
}
