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

    /** {@code n} comma-separated bind markers, for an {@code IN (...)} list. */
    public static String marks(int n) {
        return String.join(", ", Collections.nCopies(n, "?"));
    }
}
