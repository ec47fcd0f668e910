package io.handoff.hub.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import javax.sql.DataSource;

import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.ds.PGSimpleDataSource;

import io.handoff.hub.support.HubTestResource;

/**
 * The Flyway migrations and the idempotency table's guarantees on both databases the hub runs on. PostgreSQL cases
 * run against 127.0.0.1:5432 (a throw-away database) and are skipped where no server answers.
 */
class MigrationsTest {

    interface Database extends AutoCloseable {
        DataSource dataSource();

        @Override
        void close();
    }

    static Database open(String kind) {
        if (kind.equals("h2")) {
            JdbcDataSource h2 = new JdbcDataSource();
            h2.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1");
            h2.setUser("sa");
            return new Database() {
                public DataSource dataSource() {
                    return h2;
                }

                public void close() {
                    execute(h2, "SHUTDOWN");
                }
            };
        }
        Assumptions.assumeTrue(postgresAnswers(), "no PostgreSQL server at 127.0.0.1:5432");
        String name = "handoff_migrations_" + UUID.randomUUID().toString().replace("-", "");
        execute(admin(), "CREATE DATABASE " + name);
        PGSimpleDataSource pg = new PGSimpleDataSource();
        pg.setURL("jdbc:postgresql://127.0.0.1:5432/" + name);
        pg.setUser("postgres");
        return new Database() {
            public DataSource dataSource() {
                return pg;
            }

            public void close() {
                execute(admin(), "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            }
        };
    }

    static DataSource admin() {
        PGSimpleDataSource admin = new PGSimpleDataSource();
        admin.setURL(HubTestResource.POSTGRES_ADMIN_URL);
        admin.setUser("postgres");
        return admin;
    }

    static boolean postgresAnswers() {
        try (Connection ignored = DriverManager.getConnection(HubTestResource.POSTGRES_ADMIN_URL + "?connectTimeout=2",
                "postgres", "")) {
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    static void execute(DataSource dataSource, String sql) {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static void migrate(DataSource dataSource) {
        flyway(dataSource).migrate();
    }

    /** The locations the hub migrates from: H2 also takes its tuning migrations (quarkus.flyway.h2.locations). */
    static Flyway flyway(DataSource dataSource) {
        boolean h2;
        try (Connection c = dataSource.getConnection()) {
            h2 = c.getMetaData().getDatabaseProductName().equals("H2");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return Flyway.configure().dataSource(dataSource).locations(h2
                ? new String[] { "classpath:db/migration", "classpath:db/h2" }
                : new String[] { "classpath:db/migration" }).load();
    }

    @ParameterizedTest
    @ValueSource(strings = { "h2", "postgresql" })
    void migrationsApplyAndAreRepeatable(String kind) {
        try (Database db = open(kind)) {
            migrate(db.dataSource());
            migrate(db.dataSource());
            var info = flyway(db.dataSource()).info();
            assertTrue(info.applied().length >= 1);
            assertEquals(0, info.pending().length);
        }
    }

    /**
     * V1.8.0 moves the deliveries' lookups (by change, by customer) to delivery_key: the deliveries an installation
     * planned before get their key rows, and a change planned before is still refused a second row.
     */
    @ParameterizedTest
    @ValueSource(strings = { "h2", "postgresql" })
    void deliveriesPlannedBeforeTheLookupTableKeepTheirKeys(String kind) {
        try (Database db = open(kind)) {
            Flyway.configure().configuration(flyway(db.dataSource()).getConfiguration()).target("1.7.0").load()
                    .migrate();
            execute(db.dataSource(), "INSERT INTO delivery (change_id, system, kind, hub_id, channel, purpose, state,"
                    + " origin_system, origin_event, event_time, received_at, planned_at, status, attempts, replays)"
                    + " VALUES ('change-1', 'klaviyo', 'consent', 'hub-1', 'email', 'marketing', 'unsubscribed',"
                    + " 'shopify', 'shopify#1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'pending', 0,"
                    + " 0)");
            migrate(db.dataSource());
            var keys = new org.springframework.jdbc.core.JdbcTemplate(db.dataSource()).queryForList("SELECT k.id,"
                    + " k.change_id, k.system, k.kind, k.hub_id, k.channel, k.purpose FROM delivery_key k JOIN delivery d"
                    + " ON d.id = k.id");
            assertEquals(1, keys.size());
            assertEquals(List.of("change-1", "klaviyo", "consent", "hub-1", "email", "marketing"),
                    keys.get(0).values().stream().skip(1).toList());
            execute(db.dataSource(), "INSERT INTO delivery (change_id, system, kind, hub_id, channel, purpose, state,"
                    + " origin_system, origin_event, event_time, received_at, planned_at, status, attempts, replays)"
                    + " SELECT change_id, system, kind, hub_id, channel, purpose, state, origin_system, origin_event,"
                    + " event_time, received_at, planned_at, status, attempts, replays FROM delivery");
            String second = "INSERT INTO delivery_key (id, change_id, system, kind, hub_id, channel, purpose)"
                    + " SELECT MAX(id), '%s', 'klaviyo', 'consent', 'hub-1', 'email', 'marketing' FROM delivery";
            assertThrows(IllegalStateException.class, () -> execute(db.dataSource(), second.formatted("change-1")),
                    "the same change for the same system is refused");
            execute(db.dataSource(), second.formatted("change-2"));
        }
    }

    /**
     * V1.9.0 keys system_consent by customer first: what systems were confirmed to hold before stays, one row per
     * system, customer, channel and purpose is still all the table takes, and the key is the only index left.
     */
    @ParameterizedTest
    @ValueSource(strings = { "h2", "postgresql" })
    void systemHoldingsKeyedByCustomerKeepTheirRows(String kind) throws SQLException {
        try (Database db = open(kind)) {
            Flyway.configure().configuration(flyway(db.dataSource()).getConfiguration()).target("1.8.0").load()
                    .migrate();
            String insert = "INSERT INTO system_consent (system, hub_id, channel, purpose, state, confirmed_at, evidence)"
                    + " VALUES ('%s', 'hub-1', 'email', 'marketing', 'unsubscribed', CURRENT_TIMESTAMP, 'delivery')";
            execute(db.dataSource(), insert.formatted("klaviyo"));
            execute(db.dataSource(), insert.formatted("hubspot"));
            migrate(db.dataSource());
            var jdbc = new org.springframework.jdbc.core.JdbcTemplate(db.dataSource());
            assertEquals(List.of("hubspot", "klaviyo"), jdbc.queryForList("SELECT system FROM system_consent"
                    + " WHERE hub_id = 'hub-1' AND channel = 'email' AND purpose = 'marketing' ORDER BY system",
                    String.class));
            assertThrows(IllegalStateException.class, () -> execute(db.dataSource(), insert.formatted("klaviyo")),
                    "a second row for the same system and customer is refused");
            execute(db.dataSource(), insert.formatted("salesforce"));
            java.util.Map<String, List<String>> indexes;
            try (Connection c = db.dataSource().getConnection()) {
                indexes = indexes(c, "system_consent");
            }
            assertEquals(List.of(List.of("hub_id", "channel", "purpose", "system")), List.copyOf(indexes.values()),
                    "the key, customer first, is the table's only index");
        }
    }

    /**
     * Every index costs a write per insert (and, on H2, per update of its row): no table has two indexes on the same
     * columns. H2 adds an index of its own for a foreign key unless one on exactly its columns exists when the key is
     * added (db/h2/V1.9.1 re-adds customer_system_id's key so that it uses customer_system_id_hub).
     */
    @ParameterizedTest
    @ValueSource(strings = { "h2", "postgresql" })
    void noIndexRepeatsAnother(String kind) throws SQLException {
        try (Database db = open(kind)) {
            migrate(db.dataSource());
            List<String> repeated = new java.util.ArrayList<>();
            try (Connection c = db.dataSource().getConnection()) {
                List<String> tables = new java.util.ArrayList<>();
                try (java.sql.ResultSet rs = c.getMetaData().getTables(null, "public", "%",
                        new String[] { "TABLE" })) {
                    while (rs.next()) {
                        tables.add(rs.getString("TABLE_NAME"));
                    }
                }
                for (String table : tables) {
                    java.util.Map<String, List<String>> indexes = indexes(c, table);
                    indexes.forEach((name, columns) -> indexes.forEach((other, more) -> {
                        if (name.compareTo(other) < 0 && more.equals(columns)) {
                            repeated.add(table + "." + name + " and " + other + " on " + columns);
                        }
                    }));
                }
                assertTrue(tables.contains("delivery"), "the hub's tables were found: " + tables);
            }
            assertEquals(List.of(), repeated);
        }
    }

    /** A table's indexes by name: their columns in order, lower case. */
    static java.util.Map<String, List<String>> indexes(Connection c, String table) throws SQLException {
        java.util.Map<String, List<String>> indexes = new java.util.TreeMap<>();
        try (java.sql.ResultSet rs = c.getMetaData().getIndexInfo(null, "public", table, false, false)) {
            while (rs.next()) {
                if (rs.getString("COLUMN_NAME") != null) {
                    indexes.computeIfAbsent(rs.getString("INDEX_NAME"), k -> new java.util.ArrayList<>())
                            .add(rs.getString("COLUMN_NAME").toLowerCase()); // in ordinal order
                }
            }
        }
        return indexes;
    }

    @ParameterizedTest
    @ValueSource(strings = { "h2", "postgresql" })
    void deliveryKeyTableRejectsASecondClaimOfTheSameKey(String kind) {
        try (Database db = open(kind)) {
            migrate(db.dataSource());
            String insert = "INSERT INTO camel_messageprocessed (processorName, messageId, createdAt) "
                    + "VALUES ('webhook-intake', 'shopify:1', CURRENT_TIMESTAMP)";
            execute(db.dataSource(), insert);
            assertThrows(IllegalStateException.class, () -> execute(db.dataSource(), insert));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "h2", "postgresql" })
    void repositoryAnswersEachKeyOnceAcrossReplicas(String kind) throws Exception {
        try (Database db = open(kind)) {
            migrate(db.dataSource());
            // Two repositories on one database: two hub replicas.
            SqlIdempotentRepository first = new SqlIdempotentRepository(db.dataSource(), "webhook-intake");
            SqlIdempotentRepository second = new SqlIdempotentRepository(db.dataSource(), "webhook-intake");
            first.start();
            second.start();
            assertTrue(first.add("shopify:a"));
            assertFalse(second.add("shopify:a"));
            assertTrue(second.remove("shopify:a"));
            assertTrue(first.add("shopify:a"), "a released key can be claimed again");

            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                for (int round = 0; round < 20; round++) {
                    String key = "shopify:race-" + round;
                    CountDownLatch go = new CountDownLatch(1);
                    List<Future<Boolean>> claims = new ArrayList<>();
                    for (int i = 0; i < 8; i++) {
                        SqlIdempotentRepository replica = i % 2 == 0 ? first : second;
                        Callable<Boolean> claim = () -> {
                            go.await();
                            return replica.add(key);
                        };
                        claims.add(pool.submit(claim));
                    }
                    go.countDown();
                    int won = 0;
                    for (Future<Boolean> claim : claims) {
                        won += claim.get() ? 1 : 0;
                    }
                    assertEquals(1, won, "exactly one claim of " + key + " wins");
                }
            } finally {
                pool.shutdownNow();
                first.stop();
                second.stop();
            }
        }
    }
}
