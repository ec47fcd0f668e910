package io.handoff.hub.intake;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.support.DefaultMessage;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.event.CanonicalEventCodec;
import io.handoff.hub.kafka.HubTopics;

/**
 * Turns the exchange's canonical event into the Kafka record: structured-mode CloudEvent as the value, the
 * customer (or item) key, the domain's topic, and the {@code content-type} / {@code ce_id} / {@code ce_type} headers.
 * Every inbound HTTP header is removed first, so no signature or other request header reaches Kafka. A record Kafka
 * would refuse as too large (a body near {@code hub.intake.max-body-bytes} plus the CloudEvent envelope) is refused
 * with 413 before it is sent: a 503 would have the platform retry a delivery that can never be taken.
 */
@ApplicationScoped
@Named("eventPublisher")
public class EventPublisher {

    /** Kafka's own bytes around a record's key, value and headers in a one-record batch, rounded up. */
    static final int RECORD_OVERHEAD_BYTES = 128;

    private final CanonicalEventCodec codec;
    private final HubTopics topics;
    private final int maxEventBytes;

    public EventPublisher(CanonicalEventCodec codec, HubTopics topics,
            // Largest record the intake sends, in bytes: the producer's max.request.size unless set lower (a broker
            // or topic whose max.message.bytes is lower). A larger event is answered 413.
            @ConfigProperty(name = "hub.intake.max-event-bytes") int maxEventBytes) {
        this.codec = codec;
        this.topics = topics;
        this.maxEventBytes = maxEventBytes;
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
        byte[] value = codec.write(event);
        int size = recordSize(event, value);
        if (size > maxEventBytes) {
            throw new WebhookRejectedException(413, "payload_too_large", "the event made of this delivery is " + size
                    + " bytes as a Kafka record, larger than the limit of " + maxEventBytes + " bytes");
        }
        message.setBody(value);
    }

    /** The record's size as the producer counts it against max.request.size, rounded up. */
    static int recordSize(CanonicalEvent event, byte[] value) {
        int headers = CanonicalEventCodec.CONTENT_TYPE.length() + event.id().length() + event.type().wireName().length()
                + event.source().length() + "content-typece_idce_typece_source".length();
        return RECORD_OVERHEAD_BYTES + value.length + headers
                + (event.key() == null ? 0 : event.key().getBytes(StandardCharsets.UTF_8).length);
    }
}
