package com.modelmarket.serving.engine;

import com.modelmarket.serving.training.JobPriority;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lowers the CPU priority of the calling thread only (Linux schedules threads: a thread id names one
 * thread). Java's thread priorities do nothing on Linux, so a training thread of the in-process
 * runtime (serving.sandbox=off) lowers itself this way before it trains; with job hosts the whole
 * job process starts at its priority instead. {@code idle} puts it in the SCHED_IDLE class ({@code chrt --idle}): it runs only
 * on CPU time nothing else wants, and any waking inference thread preempts it at once — measured, a
 * mere nice 19 still cost a light model four fifths of its throughput on a shared core, because a
 * waking thread waits for the running one's time slice. {@code low} is nice 19 ({@code renice}).
 * Threads it starts afterwards (PyTorch's intra-op pool, when training is the first to use the
 * engine in this JVM) inherit the setting. Best effort: where there is no {@code /proc/thread-self},
 * {@code chrt} or {@code renice}, it logs once and does nothing.
 */
final class ThreadPriority {

    private static final Logger LOG = LoggerFactory.getLogger(ThreadPriority.class);
    private static volatile boolean warned;

    private ThreadPriority() {
    }

    /** Lowers this thread to {@code priority} ({@code normal} leaves it); true if it did. */
    static boolean lowerCurrentThread(JobPriority priority) {
        if (priority == JobPriority.NORMAL) {
            return false;
        }
        try {
            String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
            ProcessBuilder command = priority == JobPriority.IDLE
                    ? new ProcessBuilder("chrt", "--idle", "-p", "0", tid)
                    : new ProcessBuilder("renice", "-n", "19", "-p", tid);
            Process p = command.redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | UnsupportedOperationException e) {
            if (!warned) {
                warned = true;
                LOG.warn("cannot lower the priority of training threads ({}); they compete with inference as equals", e.toString());
            }
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
