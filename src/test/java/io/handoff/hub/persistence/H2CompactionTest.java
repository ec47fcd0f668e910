package io.handoff.hub.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Random;

import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded H2 as the hub opens it (every commit written at once, {@code WRITE_DELAY=0}) keeps every chunk a
 * commit left, however little of it is still live; {@link H2Compaction} rewrites their live pages so the space can be
 * reused.
 */
class H2CompactionTest {

    @Test
    void rewritesTheLivePagesOfChunksThatCommitsLeftMostlyEmpty(@TempDir Path dir) throws Exception {
        JdbcDataSource dataSource = new JdbcDataSource();
        // RETENTION_TIME=0: H2 rewrites only chunks older than the retention time (45 s by default, as the hub keeps).
        dataSource.setURL("jdbc:h2:file:" + dir.resolve("handoff") + ";MODE=PostgreSQL;WRITE_DELAY=0;RETENTION_TIME=0");
        dataSource.setUser("sa");
        H2Compaction compaction = new H2Compaction(dataSource, null, "h2", "1s", 50, 16 * 1024 * 1024);

        try (Connection keepOpen = dataSource.getConnection()) {
            churn(keepOpen);
            int before = chunksFillRate(keepOpen);
            assertTrue(before < 50, "one commit per update leaves chunks mostly empty: " + before + " %");

            int passes = 0;
            while (compaction.compactNow()) {
                passes++;
                assertTrue(passes < 100, "compaction ends");
            }
            int after = chunksFillRate(keepOpen);
            assertTrue(passes > 0, "something rewritten");
            assertTrue(after >= 50, "live share of the chunks after compaction: " + after + " % (before " + before
                    + " %)");
            assertFalse(compaction.compactNow(), "at the target fill rate, a pass rewrites nothing");
            try (Statement s = keepOpen.createStatement(); ResultSet r = s.executeQuery("SELECT SUM(n) FROM counter")) {
                r.next();
                assertEquals(5_000, r.getLong(1), "the data itself unchanged");
            }
        }
    }

    @Test
    void schedulesNothingOnPostgresql() {
        // No scheduler (null): a job scheduled for PostgreSQL would fail here.
        new H2Compaction(null, null, "postgresql", "1s", 50, 1024).start(null);
    }

    /**
     * 5,000 updates of single rows spread over a table of many pages, each its own commit, as the hub's many small
     * transactions write: each commit's chunk keeps the one leaf page it changed live, the rest of it superseded.
     */
    private static void churn(Connection connection) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute("CREATE TABLE counter (id INT PRIMARY KEY, n BIGINT NOT NULL, pad VARCHAR(200))");
            s.execute("INSERT INTO counter SELECT x, 0, REPEAT('x', 200) FROM SYSTEM_RANGE(1, 20000)");
        }
        Random random = new Random(17);
        try (PreparedStatement update = connection.prepareStatement("UPDATE counter SET n = n + 1 WHERE id = ?")) {
            for (int i = 0; i < 5_000; i++) {
                update.setInt(1, random.nextInt(20_000) + 1);
                update.executeUpdate();
            }
        }
    }

    private static int chunksFillRate(Connection connection) throws SQLException {
        try (Statement s = connection.createStatement(); ResultSet r = s.executeQuery(
                "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'info.CHUNKS_FILL_RATE'")) {
            r.next();
            return Integer.parseInt(r.getString(1));
        }
    }
}
