package com.modelmarket.serving.training;

import java.util.List;
import java.util.Locale;

/**
 * The CPU priority a training or fine-tuning job runs at, below the serving path's threads.
 * {@link #IDLE} is Linux's SCHED_IDLE class: the job only gets CPU time that nothing else wants,
 * and any waking inference thread preempts it at once. {@link #LOW} is nice 19, {@link #NORMAL}
 * the model hosts' own niceness. Unprivileged processes may lower their priority, never raise it.
 */
public enum JobPriority {
    IDLE, LOW, NORMAL;

    /** {@code idle}, {@code low} or {@code normal}. */
    public static JobPriority parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("a job priority is idle, low or normal, not " + value, e);
        }
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The command words that start a program at this priority: {@code chrt --idle 0} or {@code
     * nice -n N} ({@code hostNiceness} for {@link #NORMAL}).
     */
    public List<String> launchPrefix(int hostNiceness) {
        return switch (this) {
            case IDLE -> List.of("chrt", "--idle", "0");
            case LOW -> List.of("nice", "-n", "19");
            case NORMAL -> List.of("nice", "-n", Integer.toString(hostNiceness));
        };
    }
}
