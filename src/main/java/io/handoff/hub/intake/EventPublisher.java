package io.handoff.hub.intake;

import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.support.DefaultMessage;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEventCodec;
import io.handoff.hub.kafka.HubTopics;

/**
 * Turns the exchange's canonical event into the Kafka record: structured-mode CloudEvent as the value, the
 * customer (or item) key, the domain's topic, and the {@code content-type} / {@code ce_id} / {@code ce_type} headers.
 * Every inbound HTTP header is removed first, so no signature or other request header reaches Kafka.
 */
@ApplicationScoped
@Named("eventPublisher")
public class EventPublisher {

    private final CanonicalEventCodec codec;
    private final HubTopics topics;

    public EventPublisher(CanonicalEventCodec codec, HubTopics topics) {
        this.codec = codec;
        this.topics = topics;
    }

    /**
     * The Kafka records of several events, as messages for one send of a batch (a list body with
     * {@code batchWithIndividualHeaders=true}: each message's own key and headers). The route names the topic.
     */
    public List<Message> toMessages(List<CanonicalEvent> events, CamelContext context) {
        List<Message> out = new ArrayList<>(events.size());
        for (CanonicalEvent event : events) {
            Message message = new DefaultMessage(context);
            headers(message, event);
            message.setBody(codec.write(event));
            out.add(message);
        }
        return out;
    }

    private static void headers(Message message, CanonicalEvent event) {
        message.setHeader(KafkaConstants.KEY, event.key());
        message.setHeader("content-type", CanonicalEventCodec.CONTENT_TYPE);
        message.setHeader("ce_id", event.id());
        message.setHeader("ce_type", event.type().wireName());
        message.setHeader("ce_source", event.source());
    }

    public void toRecord(Exchange exchange) {
        Message message = exchange.getMessage();
        CanonicalEvent event = java.util.Objects.requireNonNull(message.getBody(CanonicalEvent.class), "no canonical event in the body");
        String topic = topics.forDomain(event.type().domain());
        exchange.setProperty(IntakeExchange.EVENT, event);
        exchange.setProperty(IntakeExchange.KAFKA_TOPIC, topic);
        message.removeHeaders("*");
        // platform-http keeps the request's charset; the record value is UTF-8 bytes and must not be re-encoded.
        exchange.removeProperty(org.apache.camel.Exchange.CHARSET_NAME);
        headers(message, event);
        message.setBody(codec.write(event));
    }
}
