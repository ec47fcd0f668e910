package io.handoff.hub.intake;

/** Names of the exchange properties the intake beans and routes pass along. */
public final class IntakeExchange {

    /** The configured system name the delivery came from (e.g. {@code shopify}, {@code checkout}). */
    public static final String SYSTEM = "hubSystem";
    /** The metric topic label: the verified vendor topic or the canonical type. */
    public static final String TOPIC_LABEL = "hubTopicLabel";
    /** {@code <system>:<delivery id>}: the idempotency key of a delivery. */
    public static final String DELIVERY_KEY = "hubDeliveryKey";
    /** The canonical event being published. */
    public static final String EVENT = "hubEvent";
    /** The Kafka topic the event goes to. */
    public static final String KAFKA_TOPIC = "hubKafkaTopic";
    /** The hub's receive time of the delivery. */
    public static final String RECEIVED_AT = "hubReceivedAt";

    private IntakeExchange() {
    }
}
