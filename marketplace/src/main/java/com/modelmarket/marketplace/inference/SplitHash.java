package com.modelmarket.marketplace.inference;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The stable hash that picks a call's side in an alias split: a bucket from 0 to 99 that depends
 * only on its inputs (the same on every node and after restarts), spread evenly, so the buckets
 * below the canary's percent get that share. A tenant's bucket is fixed for the model, so raising
 * the canary's share only ever moves tenants onto the canary, never back and forth.
 */
public final class SplitHash {

    private SplitHash() {
    }

    /** The bucket of a tenant for a model. */
    public static int bucket(UUID tenant, UUID model) {
        long h = mix(tenant.getMostSignificantBits() ^ mix(tenant.getLeastSignificantBits()));
        h = mix(h ^ model.getMostSignificantBits() ^ Long.rotateLeft(model.getLeastSignificantBits(), 29));
        return (int) Long.remainderUnsigned(h, 100);
    }

    /** The bucket of a request by its id (FNV-1a over its UTF-8 bytes, then mixed). */
    public static int bucket(String requestId) {
        long h = 0xcbf29ce484222325L;
        for (byte b : requestId.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return (int) Long.remainderUnsigned(mix(h), 100);
    }

    /** SplitMix64's finaliser: every input bit moves every output bit. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
