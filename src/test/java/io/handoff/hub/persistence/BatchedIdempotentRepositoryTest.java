package io.handoff.hub.persistence;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.sql.DataSource;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.jdbc.core.JdbcTemplate;

import io.handoff.hub.support.RefusingDataSource;

/**
 * The webhook delivery ids stored in batches off the request path, on both databases: a duplicate is answered as
 * one at once, every id lands once, an id another replica stored does not sink its batch, an outage is waited out
 * and the way down stores what is queued. PostgreSQL cases are skipped where no server answers.
 */
class BatchedIdempotentRepositoryTest {

    static final Duration STORED = Duration.ofSeconds(10);

    @ParameterizedTest
    @ValueSource(strings = { "h2", "postgresql" })
    void anAcknowledgedIdIsADuplicateAtOnceAndStoredForEveryReplica(String kind) throws Exception {
        try (MigrationsTest.Database db = migrated(kind)) {
            BatchedIdempotentRepository first = new BatchedIdempotentRepository(db.dataSource(), "webhook-intake");
            SqlIdempotentRepository second = new SqlIdempotentRepository(db.dataSource(), "webhook-intake");
            first.start();
            second.start();
            try {
                assertFalse(first.contains("shopify:a"));
                assertTrue(first.add("shopify:a"));
                assertTrue(first.contains("shopify:a"), "a retry to this replica is a duplicate before the batch lands");
                await().atMost(STORED).until(() -> first.unstored() == 0);
                assertTrue(second.contains("shopify:a"), "once stored, every replica knows it");
                assertEquals(1, rows(db.dataSource(), "shopify:a"));

                // Many webhooks at once, from the threads Kafka's acknowledgements continue on.
                ExecutorService threads = Executors.newFixedThreadPool(8);
                List<Future<Boolean>> added = new ArrayList<>();
                for (int i = 0; i < 2_000; i++) {
                    String key = "shopify:many-" + i;
                    added.add(threads.submit(() -> first.add(key)));
                }
                for (Future<Boolean> a : added) {
                    assertTrue(a.get());
                }
                threads.shutdown();
                await().atMost(STORED).until(() -> first.unstored() == 0);
                assertEquals(2_000, count(db.dataSource(), "shopify:many-%"), "each id stored once");
            } finally {
                first.stop();
                second.stop();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "h2", "postgresql" })
    void anIdAnotherReplicaStoredMeanwhileDoesNotSinkTheBatch(String kind) throws Exception {
        try (MigrationsTest.Database db = migrated(kind)) {
            BatchedIdempotentRepository first = new BatchedIdempotentRepository(db.dataSource(), "webhook-intake");
            SqlIdempotentRepository second = new SqlIdempotentRepository(db.dataSource(), "webhook-intake");
            second.start();
            try {
                // Not started: the ids wait in the queue, the retry's replica stores one of them first.
                assertTrue(first.add("shopify:x"));
                assertTrue(first.add("shopify:raced"));
                assertTrue(first.add("shopify:y"));
                assertTrue(second.add("shopify:raced"));
                AtomicBoolean down = new AtomicBoolean(true);
                BatchedIdempotentRepository unreachable = new BatchedIdempotentRepository(
                        new RefusingDataSource(db.dataSource(), down::get), "webhook-intake");
                assertTrue(unreachable.add("shopify:z"));
                assertThrows(RuntimeException.class, unreachable::flush);
                assertEquals(1, unreachable.unstored(), "a failed flush keeps its ids for the next");
                down.set(false);
                assertEquals(1, unreachable.flush());
                assertEquals(1, rows(db.dataSource(), "shopify:z"));
                assertEquals(3, first.flush());
                assertEquals(0, first.unstored());
                for (String key : List.of("shopify:x", "shopify:raced", "shopify:y")) {
                    assertEquals(1, rows(db.dataSource(), key), key);
                }
            } finally {
                second.stop();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "h2", "postgresql" })
    void aDatabaseOutageIsWaitedOutAndTheWayDownStoresWhatIsQueued(String kind) throws Exception {
        try (MigrationsTest.Database db = migrated(kind)) {
            AtomicBoolean down = new AtomicBoolean(false);
            BatchedIdempotentRepository repository = new BatchedIdempotentRepository(
                    new RefusingDataSource(db.dataSource(), down::get), "webhook-intake");
            repository.start();
            down.set(true);
            try {
                assertTrue(repository.add("shopify:during-outage"));
                await().during(Duration.ofMillis(500)).atMost(STORED)
                        .until(() -> repository.unstored() == 1 && repository.contains("shopify:during-outage"));
                down.set(false);
                await().atMost(STORED).until(() -> repository.unstored() == 0);
                assertEquals(1, rows(db.dataSource(), "shopify:during-outage"));

                // Queued during an outage that ends as the hub goes down: the writer is waiting to try again, the
                // flush on the way down stores them.
                down.set(true);
                for (int i = 0; i < 50; i++) {
                    repository.add("shopify:last-" + i);
                }
                await().atMost(STORED).until(() -> repository.unstored() == 50);
                down.set(false);
            } finally {
                repository.stop();
            }
            assertEquals(0, repository.unstored());
            assertEquals(50, count(db.dataSource(), "shopify:last-%"), "stopping stores the queued ids");
        }
    }

    static MigrationsTest.Database migrated(String kind) {
        MigrationsTest.Database db = MigrationsTest.open(kind);
        MigrationsTest.migrate(db.dataSource());
        return db;
    }

    static int rows(DataSource dataSource, String key) {
        return count(dataSource, "=", key);
    }

    static int count(DataSource dataSource, String pattern) {
        return count(dataSource, "LIKE", pattern);
    }

    static int count(DataSource dataSource, String operator, String value) {
        return new JdbcTemplate(dataSource).queryForObject("SELECT COUNT(*) FROM camel_messageprocessed"
                + " WHERE processorName = 'webhook-intake' AND messageId " + operator + " ?", Integer.class, value);
    }
}
