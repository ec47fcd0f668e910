package io.handoff.hub.kafka;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.consumer.KafkaManualCommit;
import org.apache.camel.support.DefaultMessage;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;
import org.springframework.dao.DataAccessException;
import org.springframework.transaction.TransactionException;

/**
 * The steps every batching Kafka route shares (ledger, propagation planner). Such a route consumes with Camel
 * Kafka's batching consumer ({@code batching=true}, {@code autoCommitEnable=false}, {@code allowManualCommit=true}):
 * its body is the poll's records, one exchange each, in offset order per partition. The route's bean decides them all
 * in one database transaction, publishes what they produced, parks the records it could not take, and only then
 * {@link #commit commits} each partition's offset. A crash anywhere before the commit makes Kafka redeliver the
 * records, which the consumers deduplicate; nothing is committed for a record that was not processed.
 * <p>
 * A record that cannot be read, or that fails on its own, is {@link #reject rejected}: {@link #deadLetters} turns it
 * into a dead-letter record (the original key, value and headers plus the reason) and the route sends those with the
 * rest, so one bad record never holds up its batch.
 */
@ApplicationScoped
@Named("kafkaBatches")
public class KafkaBatches {

    private static final Logger LOG = Logger.getLogger(KafkaBatches.class);
    /** Exchange property: the records of the batch that were rejected, as {@code Rejected} entries. */
    public static final String REJECTED = "hubRejectedRecords";
    /** Exchange property: the batch's records, kept once the body is replaced by what the batch produced. */
    public static final String RECORDS = "hubBatchRecords";
    private static final int MAX_ERROR_LENGTH = 500;

    /** A record the route gave up on, and why. */
    record Rejected(Exchange record, Exception cause) {
    }

    /**
     * The records of a batch exchange: its body as the consumer made it (kept in {@value #RECORDS} from the first
     * call on, since the route replaces the body); a plain exchange counts as a batch of one.
     */
    @SuppressWarnings("unchecked")
    public static List<Exchange> records(Exchange batch) {
        List<Exchange> kept = batch.getProperty(RECORDS, List.class);
        if (kept != null) {
            return kept;
        }
        Object body = batch.getMessage().getBody();
        List<Exchange> records = body instanceof List<?> list && (list.isEmpty() || list.get(0) instanceof Exchange)
                ? (List<Exchange>) list : List.of(batch);
        batch.setProperty(RECORDS, records);
        return records;
    }

    /** Sets a record aside for the dead-letter topic. */
    @SuppressWarnings("unchecked")
    public static void reject(Exchange batch, Exchange record, Exception cause) {
        List<Rejected> rejected = batch.getProperty(REJECTED, List.class);
        if (rejected == null) {
            rejected = new ArrayList<>();
            batch.setProperty(REJECTED, rejected);
        }
        rejected.add(new Rejected(record, cause));
        LOG.warnf("record %s of %s rejected by %s: %s", record.getMessage().getHeader(KafkaConstants.OFFSET),
                record.getMessage().getHeader(KafkaConstants.TOPIC), batch.getFromRouteId(), cause.toString());
    }

    /**
     * Reads each record with {@code read}; a record that cannot be read is rejected. Answers what was read, in
     * order, paired with its record.
     */
    public static <T> List<Map.Entry<Exchange, T>> read(Exchange batch, Function<Exchange, T> read) {
        List<Map.Entry<Exchange, T>> out = new ArrayList<>();
        for (Exchange record : records(batch)) {
            try {
                out.add(Map.entry(record, read.apply(record)));
            } catch (RuntimeException unreadable) {
                reject(batch, record, unreadable);
            }
        }
        return out;
    }

    /**
     * True for failures that say the hub, not the record, is in trouble (database or Kafka unreachable, a race with
     * another replica): the batch is retried as a whole, never split or parked. The causes count too: a transaction
     * that could not begin because the database refused a connection is Spring's
     * {@code CannotCreateTransactionException}, neither a {@code DataAccessException} nor an {@code SQLException}
     * itself.
     */
    public static boolean isOutage(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof DataAccessException || t instanceof TransactionException || t instanceof SQLException
                    || t instanceof KafkaException) {
                return true;
            }
        }
        return false;
    }

    /** Body: the rejected records as dead-letter messages (original key, value and headers, plus the reason). */
    @SuppressWarnings("unchecked")
    public List<Message> deadLetters(Exchange batch) {
        List<Rejected> rejected = batch.getProperty(REJECTED, List.class);
        List<Message> out = new ArrayList<>();
        if (rejected == null) {
            return out;
        }
        for (Rejected r : rejected) {
            Message original = r.record().getMessage();
            Message letter = new DefaultMessage(batch.getContext());
            original.getHeaders().forEach((name, value) -> {
                if (!name.startsWith("kafka.") && !name.startsWith("Camel")) {
                    letter.setHeader(name, value);
                }
            });
            letter.setHeader(KafkaConstants.KEY, original.getHeader(KafkaConstants.KEY));
            letter.setHeader(DeadLetters.ORIGINAL_TOPIC, original.getHeader(KafkaConstants.TOPIC));
            letter.setHeader(DeadLetters.FAILED_ROUTE, batch.getFromRouteId());
            String error = r.cause().getClass().getName() + ": " + r.cause().getMessage();
            letter.setHeader(DeadLetters.ERROR, error.length() > MAX_ERROR_LENGTH ? error.substring(0,
                    MAX_ERROR_LENGTH) : error);
            letter.setBody(original.getBody());
            out.add(letter);
        }
        batch.removeProperty(REJECTED);
        return out;
    }

    /**
     * Commits, per partition, the offset after the batch's last record there (synchronously, on the consumer's
     * thread). Called last, after everything the batch produced was acknowledged. A commit refused because the
     * partition moved to another consumer (a rebalance) is left: the new owner takes the records again, and the
     * consumers deduplicate them.
     */
    public void commit(Exchange batch) {
        Map<TopicPartition, KafkaManualCommit> last = new LinkedHashMap<>();
        for (Exchange record : records(batch)) {
            KafkaManualCommit commit = record.getMessage().getHeader(KafkaConstants.MANUAL_COMMIT,
                    KafkaManualCommit.class);
            if (commit != null) {
                last.put(new TopicPartition(record.getMessage().getHeader(KafkaConstants.TOPIC, String.class),
                        record.getMessage().getHeader(KafkaConstants.PARTITION, Integer.class)), commit);
            }
        }
        for (Map.Entry<TopicPartition, KafkaManualCommit> partition : last.entrySet()) {
            try {
                partition.getValue().commit();
            } catch (org.apache.kafka.clients.consumer.CommitFailedException
                    | org.apache.kafka.common.errors.RebalanceInProgressException moved) {
                LOG.warnf("offset commit of %s refused (%s): its records will be taken again by the partition's"
                        + " new owner", partition.getKey(), moved.getClass().getSimpleName());
            }
        }
    }
}
