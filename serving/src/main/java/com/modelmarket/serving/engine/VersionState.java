package com.modelmarket.serving.engine;

import com.modelmarket.serving.ModelStatus;
import java.util.EnumSet;
import java.util.Set;

/**
 * Where a {@link ServedVersion}'s model is. A version is registered while it is in the engine's
 * version table; it leaves the table when it is unloaded or refused, finishes its queued work
 * (its model stays in whatever state it was) and is then released: {@link #RETIRED}.
 *
 * <pre>
 *   REGISTERED ──► LOADING ──► LOADED
 *                    ▲  │        │
 *                    │  ▼        ▼
 *                   UNLOADED ◄───┘        every state but RETIRED ──► RETIRED
 * </pre>
 */
public enum VersionState {
    /** Just registered; its first load has not begun. */
    REGISTERED,
    /** Its model is being loaded (first load or cold start); its memory is charged. */
    LOADING,
    /** Its model is in memory and serves; its memory is charged. */
    LOADED,
    /** Out of memory (idle, evicted, lost with its host, or a failed cold start); the next request loads it. */
    UNLOADED,
    /** Released for good: its workers stopped, its model and meters freed. Nothing starts for it again. */
    RETIRED;

    /** Whether a version may move from this state to {@code next}. */
    public boolean allows(VersionState next) {
        return next(this).contains(next);
    }

    private static Set<VersionState> next(VersionState from) {
        return switch (from) {
            case REGISTERED -> EnumSet.of(LOADING, RETIRED);
            case LOADING -> EnumSet.of(LOADED, UNLOADED, RETIRED);
            case LOADED -> EnumSet.of(UNLOADED, RETIRED);
            case UNLOADED -> EnumSet.of(LOADING, RETIRED);
            case RETIRED -> EnumSet.noneOf(VersionState.class);
        };
    }

    /** As {@link ModelStatus} reports it (a retired version is no longer reported at all). */
    ModelStatus.State reported() {
        return switch (this) {
            case LOADING -> ModelStatus.State.LOADING;
            case LOADED -> ModelStatus.State.LOADED;
            case REGISTERED, UNLOADED, RETIRED -> ModelStatus.State.UNLOADED;
        };
    }
}
