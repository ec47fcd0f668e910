package io.handoff.hub.propagation;

import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.kafka.DeadLetters;
import io.handoff.hub.kafka.HubTopics;
import io.handoff.hub.support.Json;

/**
 * Parks a failed delivery on the dead-letter topic: the record (key = hub id) holds the receipt as JSON (the change,
 * the system, the last request and answer, the attempts) with the headers every dead letter carries
 * ({@code handoff_original_topic}, {@code handoff_failed_route}, {@code handoff_error}) plus
 * {@code handoff_delivery_id}, the id {@code POST /api/deliveries/{id}/replay} takes. The delivery row stays
 * {@code failed} either way; if Kafka cannot take the record now, the lane parks it on a later turn.
 */
@ApplicationScoped
public class DeadLetterParking {

    private static final Logger LOG = Logger.getLogger(DeadLetterParking.class);
    public static final String DELIVERY_ID = "handoff_delivery_id";

    private final ProducerTemplate producer;
    private final HubTopics topics;
    private final DeliveryViews views;
    private final Deliveries deliveries;

    public DeadLetterParking(CamelContext camel, HubTopics topics, DeliveryViews views, Deliveries deliveries) {
        this.producer = camel.createProducerTemplate();
        this.topics = topics;
        this.views = views;
        this.deliveries = deliveries;
    }

    public void park(long deliveryId, String why) {
        ObjectNode receipt = views.receipt(deliveryId).orElse(null);
        if (receipt == null) {
            return;
        }
        try {
            byte[] value = Json.MAPPER.writeValueAsBytes(receipt);
            String error = why == null ? "failed" : why;
            Exchange sent = producer.send("kafka:" + topics.deadLetter(), exchange -> {
                exchange.getMessage().setHeaders(Map.of(
                        KafkaConstants.KEY, receipt.path("hubId").asText(),
                        DeadLetters.ORIGINAL_TOPIC, topics.forDomain(Delivery.KIND_ADDRESS.equals(
                                receipt.path("kind").asText()) ? io.handoff.hub.event.EventType.Domain.ADDRESS
                                        : io.handoff.hub.event.EventType.Domain.LEDGER),
                        DeadLetters.FAILED_ROUTE, "propagation-lane:" + receipt.path("system").asText(),
                        DeadLetters.ERROR, error.length() > 500 ? error.substring(0, 500) : error,
                        DELIVERY_ID, Long.toString(deliveryId),
                        "content-type", "application/json"));
                exchange.getMessage().setBody(value);
            });
            if (sent.getException() != null) {
                throw sent.getException();
            }
            deliveries.parked(deliveryId);
            LOG.infof("delivery %d parked on %s", deliveryId, topics.deadLetter());
        } catch (Exception e) {
            LOG.warnf("delivery %d could not be parked on %s yet (%s): it stays failed and is parked later",
                    deliveryId, topics.deadLetter(), e.getClass().getSimpleName());
        }
    }
}
