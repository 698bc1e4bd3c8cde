package com.modelmarket.serving.engine;

import com.modelmarket.serving.OverloadedException;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The engine's memory budget: each version in memory (or loading) is charged its bytes, and the
 * first version of an owner is also charged the runtime's per-owner overhead (a model host's JVM
 * and PyTorch). Making room unloads idle versions, least recently used first. The account knows
 * which versions it charged, so discharging is exact and happens at most once per charge.
 *
 * <p>Not thread-safe: guarded by the engine's lock, like the version table it evicts from.
 */
final class MemoryAccount {

    /** Frees a version to make room; false if it turned out busy (it then stays). */
    interface Evictor {
        boolean evict(ServedVersion victim);
    }

    private final long budgetBytes;
    private final long ownerOverheadBytes;
    private final Set<ServedVersion> charged = new HashSet<>();
    /** Charged versions per owner, for the per-owner overhead. */
    private final Map<String, Integer> chargedByOwner = new HashMap<>();
    private long usedBytes;

    MemoryAccount(long budgetBytes, long ownerOverheadBytes) {
        this.budgetBytes = budgetBytes;
        this.ownerOverheadBytes = ownerOverheadBytes;
    }

    long budgetBytes() {
        return budgetBytes;
    }

    long usedBytes() {
        return usedBytes;
    }

    /** What charging the version costs now: its bytes, plus its owner's overhead if it is the owner's first. */
    long costOf(ServedVersion v) {
        return v.memoryBytes + (chargedByOwner.getOrDefault(v.key.owner(), 0) == 0 ? ownerOverheadBytes : 0);
    }

    /**
     * Charges {@code v}, first evicting idle loaded versions among {@code others}, least recently
     * used first.
     *
     * @throws OverloadedException if busy versions hold the budget
     */
    void reserve(ServedVersion v, Collection<ServedVersion> others, Evictor evictor) {
        if (charged.contains(v)) {
            throw new IllegalStateException(v.key + " is already charged");
        }
        Set<ServedVersion> busy = new HashSet<>();
        while (usedBytes + costOf(v) > budgetBytes) {
            ServedVersion victim = others.stream()
                    .filter(o -> o != v && o.loaded() && !busy.contains(o) && o.batcher.isIdle())
                    .min(Comparator.comparingLong(o -> o.batcher.lastUsedNanos()))
                    .orElse(null);
            if (victim == null) {
                throw new OverloadedException("the memory budget (" + budgetBytes + " bytes) is held by busy "
                        + "models; " + v.key + " needs " + costOf(v), Duration.ofSeconds(1));
            }
            if (!evictor.evict(victim)) {
                busy.add(victim);
            }
        }
        usedBytes += costOf(v);
        charged.add(v);
        chargedByOwner.merge(v.key.owner(), 1, Integer::sum);
    }

    /** Gives back what {@link #reserve} charged for {@code v}; nothing if it holds no charge. */
    void discharge(ServedVersion v) {
        if (!charged.remove(v)) {
            return;
        }
        usedBytes -= v.memoryBytes;
        int left = chargedByOwner.merge(v.key.owner(), -1, Integer::sum);
        if (left <= 0) {
            chargedByOwner.remove(v.key.owner());
            usedBytes -= ownerOverheadBytes;
        }
    }
}
