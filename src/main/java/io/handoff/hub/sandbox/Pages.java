package io.handoff.hub.sandbox;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;

/**
 * Keyset paging for the sandboxes' list endpoints: entries in key order, and a cursor that is the base64url of the
 * last key of the previous page, so a page asked again (or after the list changed) neither skips nor repeats.
 */
final class Pages {

    private Pages() {
    }

    /** One page: its entries and whether more follow. */
    record Slice<K, V>(List<Map.Entry<K, V>> entries, boolean more) {
    }

    /** Up to {@code size} entries after the key {@code after} (null: from the first). */
    static <K, V> Slice<K, V> after(NavigableMap<K, V> sorted, K after, int size) {
        List<Map.Entry<K, V>> page = new ArrayList<>();
        for (Map.Entry<K, V> e : (after == null ? sorted : sorted.tailMap(after, false)).entrySet()) {
            if (page.size() == size) {
                return new Slice<>(page, true);
            }
            page.add(Map.entry(e.getKey(), e.getValue()));
        }
        return new Slice<>(page, false);
    }

    /** The cursor of the page after the one that ended with {@code lastKey}. */
    static String cursor(String lastKey) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(lastKey.getBytes(UTF_8));
    }

    /** The last key a cursor names, or null if it is not one of ours. */
    static String key(String cursor) {
        try {
            String key = new String(Base64.getUrlDecoder().decode(cursor), UTF_8);
            return key.isEmpty() ? null : key;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** A positive page size from a query parameter, or -1 if it is not a number from 1 to {@code max}. */
    static int size(String value, int fallback, int max) {
        if (value == null) {
            return fallback;
        }
        try {
            int size = Integer.parseInt(value.strip());
            return size >= 1 && size <= max ? size : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
