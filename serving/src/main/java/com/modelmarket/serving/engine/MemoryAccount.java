package com.modelmarket.serving.engine;

import com.modelmarket.serving.OverloadedException;
import com.modelmarket.serving.model.ArtifactKind;
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

    /** A trained model's bytes per byte of its archive: see {@link #estimateBytes}. */
    static final long TRAINED_MODEL_FACTOR = 3;
    /** A trained model's fixed cost: see {@link #estimateBytes}. */
    static final long TRAINED_MODEL_OVERHEAD_BYTES = 2L << 20;

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

    /**
     * What a version costs when its pool configuration does not say: estimated from its file.
     *
     * <ul>
     *   <li>TorchScript: the file's size. The archive is mostly its weights, which PyTorch holds once
     *       in native memory; activations are the model's business and not foreseeable here.
     *   <li>A trained model: {@value #TRAINED_MODEL_FACTOR} times the archive's size plus {@value
     *       #TRAINED_MODEL_OVERHEAD_BYTES} bytes. Its parameters are held on the heap (the bytes
     *       {@code TrainedModel.writeTo} writes back, plus a second copy while loading) and once
     *       natively; the fixed part covers the block, its manager and the activations of a
     *       batch, which for these small MLPs stay well under a megabyte.
     * </ul>
     */
    static long estimateBytes(ArtifactKind kind, long fileBytes) {
        return switch (kind) {
            case TORCHSCRIPT -> fileBytes;
            case TRAINED_MODEL -> fileBytes * TRAINED_MODEL_FACTOR + TRAINED_MODEL_OVERHEAD_BYTES;
        };
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
