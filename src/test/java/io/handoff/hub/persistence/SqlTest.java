package io.handoff.hub.persistence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/** The set-based queries' IN lists: chunked below the bind limits, and keyed lists in the form each database indexes. */
class SqlTest {

    @Test
    void aKeyedListIsPlainOnPostgresqlAndRowValuesOnH2() {
        List<String> conditions = new ArrayList<>();
        List<Object[]> args = new ArrayList<>();
        Sql.keyedInChunks(false, "system", "system_id", "shopify", List.of("1", "2"), (c, a) -> {
            conditions.add(c);
            args.add(a);
        });
        Sql.keyedInChunks(true, "system", "system_id", "shopify", List.of("1", "2"), (c, a) -> {
            conditions.add(c);
            args.add(a);
        });
        assertEquals(List.of("system = ? AND system_id IN (?, ?)", "(system, system_id) IN ((?, ?), (?, ?))"),
                conditions);
        assertArrayEquals(new Object[] { "shopify", "1", "2" }, args.get(0));
        assertArrayEquals(new Object[] { "shopify", "1", "shopify", "2" }, args.get(1));
    }

    @Test
    void longListsGoInChunksThatTogetherHoldEveryValueOnce() {
        List<Integer> values = IntStream.range(0, 2 * Sql.IN_CHUNK + 7).boxed().toList();
        for (boolean h2 : new boolean[] { false, true }) {
            List<Object> seen = new ArrayList<>();
            List<Integer> sizes = new ArrayList<>();
            Sql.keyedInChunks(h2, "a", "b", "k", values, (c, a) -> {
                sizes.add(a.length);
                for (int i = 1; i < a.length; i += h2 ? 2 : 1) {
                    seen.add(a[i]);
                }
            });
            assertEquals(List.copyOf(values), seen, "h2=" + h2);
            assertEquals(h2 ? List.of(2 * Sql.IN_CHUNK, 2 * Sql.IN_CHUNK, 14)
                    : List.of(Sql.IN_CHUNK + 1, Sql.IN_CHUNK + 1, 8), sizes, "h2=" + h2);
        }
    }
}
