package io.handoff.hub.persistence;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;

import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Conversions between Java time and {@code TIMESTAMP WITH TIME ZONE} that behave the same on H2 and PostgreSQL, and
 * the set-based queries' {@code IN (...)} lists.
 */
public final class Sql {

    private Sql() {
    }

    public static OffsetDateTime timestamp(Instant instant) {
        return instant == null ? null : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    public static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    /** Values per {@code IN (...)} list: well below both databases' bind-parameter limits. */
    public static final int IN_CHUNK = 500;

    /** Runs {@code query} once per chunk of at most {@value #IN_CHUNK} values, with the chunk's values and a key. */
    public static void inChunks(Object key, List<?> values, BiConsumer<String, Object[]> query) {
        for (int from = 0; from < values.size(); from += IN_CHUNK) {
            List<?> chunk = values.subList(from, Math.min(values.size(), from + IN_CHUNK));
            List<Object> args = new ArrayList<>(chunk.size() + 1);
            if (key != null) {
                args.add(key);
            }
            args.addAll(chunk);
            query.accept(marks(chunk.size()), args.toArray());
        }
    }

    /**
     * Runs {@code query} once per chunk of at most {@value #IN_CHUNK} values with a condition that reads an index on
     * ({@code first}, {@code second}): {@code first = key AND second IN (chunk)}, and its bind values. On H2, which
     * uses an index for an {@code IN} list only on the index's first column (it would read every row of the key and
     * test each against the list), the condition is a row-value list, {@code (first, second) IN ((key, v1), ...)},
     * that H2 looks up in the index one row at a time; PostgreSQL gets the plain form, one index scan.
     */
    public static void keyedInChunks(boolean h2, String first, String second, Object key, List<?> values,
            BiConsumer<String, Object[]> query) {
        if (!h2) {
            inChunks(key, values, (marks, args) -> query.accept(first + " = ? AND " + second + " IN (" + marks + ")",
                    args));
            return;
        }
        for (int from = 0; from < values.size(); from += IN_CHUNK) {
            List<?> chunk = values.subList(from, Math.min(values.size(), from + IN_CHUNK));
            List<Object> args = new ArrayList<>(2 * chunk.size());
            chunk.forEach(value -> {
                args.add(key);
                args.add(value);
            });
            query.accept("(" + first + ", " + second + ") IN (" + String.join(", ", Collections.nCopies(chunk.size(),
                    "(?, ?)")) + ")", args.toArray());
        }
    }

    /** Whether {@code jdbc}'s database is H2, asked (by its JDBC URL) on the first call and remembered. */
    public static BooleanSupplier isH2(JdbcTemplate jdbc) {
        return new BooleanSupplier() {
            private volatile Boolean h2;

            @Override
            public boolean getAsBoolean() {
                Boolean known = h2;
                if (known == null) {
                    known = Boolean.TRUE.equals(jdbc.execute((ConnectionCallback<Boolean>) c -> c.getMetaData()
                            .getURL().startsWith("jdbc:h2:")));
                    h2 = known;
                }
                return known;
            }
        };
    }

    /** {@code n} comma-separated bind markers, for an {@code IN (...)} list. */
    public static String marks(int n) {
        return String.join(", ", Collections.nCopies(n, "?"));
    }
}
